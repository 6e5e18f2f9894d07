using System.Text.Json;
using Hub.Core.Messages;
using Hub.Worker.Catalog;
using Hub.Worker.Ingest;
using Hub.Worker.Messaging;
using Hub.Worker.Store;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Hub.IntegrationTests;

/// <summary>Change events are sent at least once and in version order, whatever happens after the commit.</summary>
[Collection(HubTestGroup.Name)]
public sealed class EventDeliveryTests(HubFixture hub)
{
    [Fact]
    public async Task Versions_published_in_quick_succession_each_get_their_events_once_and_in_order()
    {
        // Concurrent pushes publish versions back to back; their senders do not wait for each other's lock, so the
        // one holding it must also send the versions committed while it was sending.
        await using var follower = await ChangeFollower.StartAsync("it-events-burst");
        var ingestion = hub.ApiServices.GetRequiredService<PushIngestion>();
        var entry = hub.ApiServices.GetRequiredService<HubCatalog>().Find("it-events-burst")!;
        var pushes = await Task.WhenAll(Enumerable.Range(0, 8).Select(push => ingestion.IngestAsync(
            entry, JsonSerializer.SerializeToUtf8Bytes(Enumerable.Range(1 + (push * 10), 10).Select(i => TestAgency.Ward(i)).ToList()), ndjson: false, "/api/ingest/it-events-burst", null, CancellationToken.None)));
        foreach (var push in pushes)
        {
            Assert.Equal("succeeded", (await hub.WaitForRunAsync(push.RunId)).Status);
        }

        await follower.WaitForAsync(received => received.OfType<DatasetVersionPublished>().Count() >= 8);
        var versions = follower.Received.OfType<DatasetVersionPublished>().Select(v => v.Version).ToList();
        Assert.Equal(Enumerable.Range(1, 8).Select(v => (long)v), versions);
        Assert.Equal(80, follower.Received.OfType<RecordChangesPublished>().Sum(p => p.Changes.Count));
        Assert.Equal(0L, await hub.QueryScalarAsync<long>("select count(*) from hub.versions where dataset_id = 'it-events-burst' and events_sent_at is null"));
    }

    [Fact]
    public async Task A_publish_that_fails_after_the_commit_is_sent_again_with_every_part_and_the_version()
    {
        await using var follower = await ChangeFollower.StartAsync("it-outbox");
        var failure = new FailOnce("it-outbox", part: 2);
        using (hub.Worker.Services.GetRequiredService<IBus>().ConnectPublishObserver(failure))
        {
            TestAgency.Serve(hub.Agency, "it-outbox", TestAgency.Wards(1200));
            var run = await hub.SyncAsync("it-outbox");
            Assert.Equal(("succeeded", 1L), (run.Status, run.Version!.Value));
            await follower.WaitForAsync(received => received.Any(m => m is DatasetVersionPublished { Version: 1 }));
        }

        Assert.Equal(1, failure.Failures);
        var parts = follower.Received.OfType<RecordChangesPublished>().ToList();
        Assert.Equal(["it-outbox/1/1", "it-outbox/1/2", "it-outbox/1/3"], parts.Select(p => p.Id).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(1200, parts.DistinctBy(p => p.Id).Sum(p => p.Changes.Count));

        // Part 1 went out before the failure and again with the resend of the whole version.
        Assert.Equal(2, parts.Count(p => p.Part == 1));
        Assert.Single(follower.Received.OfType<DatasetVersionPublished>());
        Assert.Equal(0L, await hub.QueryScalarAsync<long>("select count(*) from hub.versions where dataset_id = 'it-outbox' and events_sent_at is null"));
    }

    [Fact]
    public async Task A_version_left_unsent_by_a_stopped_worker_is_sent_by_the_sweep_and_always_before_the_next_version()
    {
        await using var follower = await ChangeFollower.StartAsync("it-outbox-sweep");
        TestAgency.Serve(hub.Agency, "it-outbox-sweep", TestAgency.Wards(30));
        await hub.SyncAsync("it-outbox-sweep");
        await follower.WaitForAsync(received => received.Any(m => m is DatasetVersionPublished { Version: 1 }));

        // The worker stopped between the commit of version 1 and its send.
        const string Unsent = "update hub.versions set events_sent_at = null where dataset_id = 'it-outbox-sweep' and version = 1; select 1";
        const string CountUnsent = "select count(*) from hub.versions where dataset_id = 'it-outbox-sweep' and events_sent_at is null";
        await hub.QueryScalarAsync<int>(Unsent);
        var bus = hub.Worker.Services.GetRequiredService<IBus>();
        var grace = new StoreOptions().ResendEventsAfter;

        await Sweeper(TimeProvider.System).SweepAsync(bus, grace, CancellationToken.None);
        Assert.Equal(1L, await hub.QueryScalarAsync<long>(CountUnsent));

        // Another dataset whose events cannot be read (its table renamed by hand), swept first by name, does not hold it back.
        TestAgency.Serve(hub.Agency, "it-outbox-broken", TestAgency.Wards(3));
        await hub.SyncAsync("it-outbox-broken");
        var table = await hub.QueryScalarAsync<string>("select table_name from hub.datasets where id = 'it-outbox-broken'");
        await hub.QueryScalarAsync<int>($"alter table open_data.{table} rename to {table}_away; update hub.versions set events_sent_at = null where dataset_id = 'it-outbox-broken'; select 1");
        try
        {
            await Sweeper(new FakeTimeProvider(TimeProvider.System.GetUtcNow() + grace + TimeSpan.FromMinutes(1))).SweepAsync(bus, grace, CancellationToken.None);
        }
        finally
        {
            await hub.QueryScalarAsync<int>($"alter table open_data.{table}_away rename to {table}; select 1");
        }

        Assert.Equal(0L, await hub.QueryScalarAsync<long>(CountUnsent));
        Assert.Equal(1L, await hub.QueryScalarAsync<long>("select count(*) from hub.versions where dataset_id = 'it-outbox-broken' and events_sent_at is null"));
        await follower.WaitForAsync(received => received.OfType<DatasetVersionPublished>().Count() == 2);

        // Left unsent again, then the next version is published: version 1 goes out first.
        await hub.QueryScalarAsync<int>(Unsent);
        TestAgency.Serve(hub.Agency, "it-outbox-sweep", TestAgency.Wards(30, " (mới)"));
        Assert.Equal(2L, (await hub.SyncAsync("it-outbox-sweep")).Version);
        await follower.WaitForAsync(received => received.Any(m => m is DatasetVersionPublished { Version: 2 }));

        Assert.Equal([1L, 1L, 1L, 2L], follower.Received.OfType<DatasetVersionPublished>().Select(v => v.Version));
        var versions = follower.Received.Select(m => m is RecordChangesPublished part ? part.Version : ((DatasetVersionPublished)m).Version).ToList();
        Assert.Equal(versions.Order(), versions);
        Assert.Equal(30, follower.Received.OfType<RecordChangesPublished>().Where(p => p.Version == 2).Sum(p => p.Changes.Count));
        Assert.Equal(0L, await hub.QueryScalarAsync<long>(CountUnsent));
    }

    private VersionEvents Sweeper(TimeProvider time) => new(
        hub.Worker.Services.GetRequiredService<NpgsqlDataSource>(), hub.Worker.Services.GetRequiredService<SnapshotWriter>(), time, NullLogger<VersionEvents>.Instance);

    /// <summary>Makes the first publish of one part of a dataset's change events fail, as a broker error would.</summary>
    private sealed class FailOnce(string datasetId, int part) : IPublishObserver
    {
        private int failures;

        public int Failures => failures;

        public Task PrePublish<T>(PublishContext<T> context)
            where T : class
        {
            if (context.Message is RecordChangesPublished changes && changes.DatasetId == datasetId && changes.Part == part && Interlocked.CompareExchange(ref failures, 1, 0) == 0)
            {
                throw new InvalidOperationException("the broker refused the message (test)");
            }

            return Task.CompletedTask;
        }

        public Task PostPublish<T>(PublishContext<T> context)
            where T : class => Task.CompletedTask;

        public Task PublishFault<T>(PublishContext<T> context, Exception exception)
            where T : class => Task.CompletedTask;
    }
}
