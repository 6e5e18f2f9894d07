using System.Globalization;
using Hub.Connectors.Http;
using Hub.Core.Catalog;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Connectors.Tests.Http;

/// <summary>A 1 GB answer: read as it arrives and refused at the limit, never downloaded whole or held in memory.</summary>
public sealed class HugeBodyTests : IDisposable
{
    private const long FileLimit = 8L * 1024 * 1024;
    private readonly AgencyHost host = new(new() { ["Connectors:MaxFileBytes"] = FileLimit.ToString(CultureInfo.InvariantCulture) });
    private readonly EndlessAgency agency = new();

    public void Dispose()
    {
        agency.Dispose();
        host.Dispose();
    }

    /// <summary>What the agency had sent when it saw the hub hang up: about the limit plus socket buffers, far below the gigabyte.</summary>
    private async Task<long> SentWhenCutOffAsync()
    {
        await agency.Finished.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return agency.Sent;
    }

    [Fact]
    public async Task A_1_GB_page_is_refused_at_the_page_limit_after_reading_only_that_much()
    {
        var source = new RestSourceDefinition { Url = agency.Url("/huge.json"), RecordPath = "$.data" };

        var error = await Assert.ThrowsAsync<AgencyResponseException>(() => host.FetchAllAsync(source));

        Assert.Contains("more than the page limit of 100000 bytes (Connectors:MaxPageBytes)", error.Message, StringComparison.Ordinal);
        Assert.InRange(await SentWhenCutOffAsync(), 0, 64L * 1024 * 1024);
    }

    [Fact]
    public async Task A_1_GB_csv_file_is_read_in_pages_of_bounded_size_until_the_file_limit()
    {
        var source = new CsvSourceDefinition { Url = agency.Url("/huge.csv"), Delimiter = ';', PageRows = 1000 };
        var pages = 0;
        var records = 0;

        var error = await Assert.ThrowsAsync<AgencyResponseException>(async () =>
        {
            await foreach (var page in host.Services.GetRequiredService<RecordSources>().FetchAsync(source, CancellationToken.None))
            {
                using (page)
                {
                    pages++;
                    records += page.Records.Count;
                    Assert.InRange(page.Payload.Length, 1, 100_000);
                    Assert.Equal("Phường Đô Vinh", page.Records[^1].GetProperty("ten_xa").GetString());
                }
            }
        });

        Assert.Contains($"more than the file limit of {FileLimit} bytes (Connectors:MaxFileBytes)", error.Message, StringComparison.Ordinal);
        Assert.Equal(1000 * pages, records);
        Assert.InRange(records, FileLimit / 40, FileLimit / 20); // rows of 24 bytes: the file was read up to the limit
        Assert.InRange(await SentWhenCutOffAsync(), FileLimit / 2, FileLimit + (64L * 1024 * 1024));
    }

    [Fact]
    public async Task Only_a_read_of_a_streamed_file_is_timed_not_the_time_the_hub_takes_between_reads()
    {
        using var small = new AgencyHost(new() { ["Connectors:MaxFileBytes"] = "300000" });
        var source = new CsvSourceDefinition { Url = agency.Url("/huge.csv"), Delimiter = ';', PageRows = 5000, Timeout = TimeSpan.FromSeconds(2) };
        var pages = 0;

        var error = await Assert.ThrowsAsync<AgencyResponseException>(async () =>
        {
            await foreach (var page in small.Services.GetRequiredService<RecordSources>().FetchAsync(source, CancellationToken.None))
            {
                using (page)
                {
                    pages++;
                    await Task.Delay(TimeSpan.FromSeconds(2.5)); // a slow writer: longer than the source's timeout
                }
            }
        });

        Assert.Contains("Connectors:MaxFileBytes", error.Message, StringComparison.Ordinal);
        Assert.True(pages >= 2, $"{pages} pages");
    }
}
