using System.Collections.Concurrent;
using System.Net.Http.Json;
using Hub.Core.Freshness;
using Hub.Core.Messages;
using Hub.Worker.Freshness;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.IntegrationTests.Freshness;

[Collection(HubTestGroup.Name)]
public sealed class FreshnessEventTests(HubFixture hub)
{
    [Fact]
    public async Task An_obligation_turning_missing_and_then_late_reaches_a_subscriber_on_RabbitMQ_once_per_transition()
    {
        var received = new ConcurrentQueue<FreshnessObligationChanged>();
        var connector = hub.Worker.Services.GetRequiredService<IReceiveEndpointConnector>();
        var endpoint = connector.ConnectReceiveEndpoint("it-freshness-notifier-" + Guid.NewGuid().ToString("N")[..8], (_, e) =>
            e.Handler<FreshnessObligationChanged>(context =>
            {
                if (context.Message.DatasetId == "fq-e")
                {
                    received.Enqueue(context.Message);
                }

                return Task.CompletedTask;
            }));
        await endpoint.Ready;
        try
        {
            var seed = new FreshnessSeed(hub.ConnectionString);
            await seed.DatasetAsync("fq-e", "FQE", "monthly", "2026-09-01 00:00");
            var notifier = hub.Worker.Services.GetRequiredService<FreshnessNotifier>();

            await notifier.NotifyAsync(CancellationToken.None);
            var m09 = await WaitForAsync(received, m => m.Period == "2026-M09" && m.NewState == ObligationState.Missing);
            Assert.Equal(("FQE", (ObligationState?)null, FreshnessSeed.Vn("2026-10-15 23:59").AddSeconds(59)), (m09.AgencyCode, m09.OldState, m09.Deadline));
            Assert.True(m09.DaysLate > 0);

            // Evaluated again with nothing new: nothing is published again.
            var again = await notifier.NotifyAsync(CancellationToken.None);
            Assert.DoesNotContain(again, m => m.DatasetId == "fq-e");

            // The agency publishes: September's obligation is now late, announced once with the state it left.
            var now = hub.Worker.Services.GetRequiredService<TimeProvider>().GetLocalNow();
            await seed.RunAsync("fq-e", now.AddMinutes(-1).ToOffset(TimeSpan.FromHours(7)).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture), valid: 10, quarantined: 0, version: 1, inserted: 10);
            await notifier.NotifyAsync(CancellationToken.None);
            var late = await WaitForAsync(received, m => m.Period == "2026-M09" && m.NewState == ObligationState.Late);
            Assert.Equal(ObligationState.Missing, late.OldState);
            Assert.Single(received, m => m.Period == "2026-M09" && m.NewState == ObligationState.Missing);

            var events = await hub.Api.GetFromJsonAsync<List<FreshnessEvent>>("/api/freshness/events?dataset=fq-e");
            Assert.Contains(events!, e => e is { Period: "2026-M09", OldState: "missing", NewState: "late" });
            Assert.Contains(events!, e => e is { Period: "2026-M09", OldState: null, NewState: "missing" });
        }
        finally
        {
            await endpoint.StopAsync();
        }
    }

    private static async Task<FreshnessObligationChanged> WaitForAsync(ConcurrentQueue<FreshnessObligationChanged> received, Func<FreshnessObligationChanged, bool> match)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (received.FirstOrDefault(match) is { } message)
            {
                return message;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("the freshness event did not arrive within 30 s; received: " + string.Join(", ", received));
    }
}
