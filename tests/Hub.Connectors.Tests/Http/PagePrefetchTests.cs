using Hub.Connectors.Http;

namespace Hub.Connectors.Tests.Http;

public class PagePrefetchTests
{
    private sealed class Page(int number) : IDisposable
    {
        public int Number { get; } = number;

        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }

    private static async IAsyncEnumerable<Page> Pages(List<Page> made, int count, bool failAtEnd)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            var page = new Page(i);
            made.Add(page);
            yield return page;
        }

        if (failAtEnd)
        {
            throw new AgencyResponseException("page 5 answered HTTP 503");
        }
    }

    [Fact]
    public async Task Pages_come_in_order_and_a_failure_of_the_source_is_rethrown_as_it_was()
    {
        var made = new List<Page>();
        var seen = new List<int>();

        var error = await Assert.ThrowsAsync<AgencyResponseException>(async () =>
        {
            await foreach (var page in Pages(made, 5, failAtEnd: true).Prefetch(2, CancellationToken.None))
            {
                seen.Add(page.Number);
            }
        });

        Assert.Equal([0, 1, 2, 3, 4], seen);
        Assert.Equal("page 5 answered HTTP 503", error.Message);
    }

    [Fact]
    public async Task Pages_fetched_ahead_but_not_handed_out_are_disposed_when_the_caller_stops()
    {
        var made = new List<Page>();

        await foreach (var page in Pages(made, 10, failAtEnd: false).Prefetch(2, CancellationToken.None))
        {
            if (page.Number == 1)
            {
                break;
            }
        }

        Assert.True(made.Count <= 5);
        Assert.All(made.Skip(2), p => Assert.True(p.Disposed));
    }
}
