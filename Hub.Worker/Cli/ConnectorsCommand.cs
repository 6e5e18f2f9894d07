using Hub.Connectors.Configuration;

namespace Hub.Worker.Cli;

/// <summary><c>connectors validate [dir]</c>: checks every agency file, prints <c>file:line:column: message</c>, exits 1 on any problem.</summary>
public static class ConnectorsCommand
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Length is < 1 or > 2 || args[0] != "validate")
        {
            error.WriteLine("usage: hub connectors validate [dir]");
            return 2;
        }

        var directory = args.Length == 2 ? args[1] : "connectors.d";
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
}
