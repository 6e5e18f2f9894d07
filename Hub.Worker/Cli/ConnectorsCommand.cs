using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Connectors;
using Hub.Connectors.Configuration;
using Hub.Connectors.Http;
using Hub.Connectors.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Hub.Worker.Cli;

/// <summary>
/// <c>connectors validate [dir]</c>: checks every agency file, prints <c>file:line:column: message</c>, exits 1 on any problem.
/// <c>connectors try &lt;dataset&gt; [dir]</c>: fetches the first page, prints the mapped records and their verdicts, writes nothing.
/// </summary>
public static class ConnectorsCommand
{
    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private const string Usage = "usage: hub connectors validate [dir] | hub connectors try <dataset> [dir]";

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        return args switch
        {
            ["validate"] => Validate("connectors.d", output, error),
            ["validate", var directory] => Validate(directory, output, error),
            ["try", var dataset] => await TryAsync(dataset, null, output, error, cancellationToken),
            ["try", var dataset, var directory] => await TryAsync(dataset, directory, output, error, cancellationToken),
            _ => UsageError(error),
        };
    }

    private static int UsageError(TextWriter error)
    {
        error.WriteLine(Usage);
        return 2;
    }

    private static int Validate(string directory, TextWriter output, TextWriter error)
    {
        var result = CatalogLoader.LoadDirectory(directory);
        foreach (var problem in result.Errors)
        {
            error.WriteLine(problem.ToString());
        }

        foreach (var dataset in result.Datasets)
        {
            output.WriteLine($"ok  {dataset.Id,-40} {Path.GetFileName(dataset.SourceFile)}  ({dataset.UpdateCycle}, cron '{dataset.Schedule}')");
        }

        output.WriteLine($"{result.Datasets.Count()} datasets valid, {result.Errors.Count} problems");
        return result.Errors.Count == 0 ? 0 : 1;
    }

    private static async Task<int> TryAsync(string datasetId, string? directory, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        await using var services = new ServiceCollection().AddConnectors(configuration).BuildServiceProvider();
        var folder = directory ?? services.GetRequiredService<IOptions<ConnectorOptions>>().Value.Path;
        var catalog = CatalogLoader.LoadDirectory(folder);
        var dataset = catalog.Datasets.FirstOrDefault(d => d.Id == datasetId);
        if (dataset is null)
        {
            foreach (var problem in catalog.Errors)
            {
                error.WriteLine(problem.ToString());
            }

            error.WriteLine($"dataset '{datasetId}' is not in {folder}; known: {string.Join(", ", catalog.Datasets.Select(d => d.Id))}");
            return 1;
        }

        try
        {
            var checker = RecordChecker.For(dataset, services.GetRequiredService<IOptions<PrivacyOptions>>().Value.HashKeyBytes());
            await foreach (var page in services.GetRequiredService<RecordSources>().FetchAsync(dataset.Source, cancellationToken))
            {
                using (page)
                {
                    output.WriteLine($"GET {page.Url} -> HTTP {page.StatusCode}, {page.Payload.Length} bytes, sha256 {page.PayloadSha256}, {page.Records.Count} records (first page only; nothing is written)");
                    int valid = 0, quarantined = 0;
                    foreach (var record in page.Records)
                    {
                        var (ok, bad) = checker.Check(record);
                        if (ok is not null)
                        {
                            valid++;
                            output.WriteLine($"ok           {ok.Key,-20} {JsonNode.Parse(ok.Json!)!.ToJsonString(Readable)}");
                        }
                        else
                        {
                            quarantined++;
                            output.WriteLine($"quarantined  {bad!.Key ?? "(no key)",-20} {bad.Json}");
                            foreach (var reason in bad.Errors)
                            {
                                output.WriteLine($"             - {reason}");
                            }
                        }
                    }

                    output.WriteLine($"{valid} valid, {quarantined} quarantined");
                    return quarantined == 0 ? 0 : 1;
                }
            }
        }
        catch (Exception e) when (e is AgencyResponseException or InvalidOperationException)
        {
            error.WriteLine($"fetch failed: {e.Message}");
            return 1;
        }

        output.WriteLine("the source sent no page");
        return 0;
    }
}
