using System.Collections.Concurrent;
using Hub.Core.Messages;
using Hub.Worker.Messaging;
using MassTransit;

namespace Hub.IntegrationTests;

/// <summary>A follower of one dataset's change events on the real broker, as a portal would be: one message at a time, kept in arrival order.</summary>
internal sealed class ChangeFollower : IAsyncDisposable
{
    private readonly ConcurrentQueue<object> received = new();
    private IBusControl bus = null!;

    public IReadOnlyList<object> Received => received.ToList();

    public static async Task<ChangeFollower> StartAsync(string datasetId)
    {
        var follower = new ChangeFollower();
        follower.bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.UseHost(new Uri(HubFixture.Required("HUB_TEST_RABBITMQ")));
            rabbit.ReceiveEndpoint($"it-follower-{Guid.NewGuid():N}", endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Durable = false;
                endpoint.PrefetchCount = 1;
                endpoint.ConcurrentMessageLimit = 1;
                endpoint.Handler<RecordChangesPublished>(context => follower.Keep(context.Message.DatasetId == datasetId, context.Message));
                endpoint.Handler<DatasetVersionPublished>(context => follower.Keep(context.Message.DatasetId == datasetId, context.Message));
            });
        });
        await follower.bus.StartAsync();
        return follower;
    }

    /// <summary>Waits (bounded) until the messages received so far satisfy <paramref name="done"/>.</summary>
    public async Task WaitForAsync(Func<IReadOnlyList<object>, bool> done)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!done(Received))
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"the follower did not receive the expected event; it has {string.Join(", ", received)}");
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync() => await bus.StopAsync();

    private Task Keep(bool ours, object message)
    {
        if (ours)
        {
            received.Enqueue(message);
        }

        return Task.CompletedTask;
    }
}
