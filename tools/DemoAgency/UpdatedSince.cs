using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace DemoAgency;

/// <summary>
/// The <c>updated_since</c> view of a generated dataset: in id order, the records of a revision whose <c>ngay_cap_nhat</c>
/// is at or after an instant, and a tombstone for each record the revision deleted at or after it.
/// </summary>
internal static class UpdatedSince
{
    /// <summary>The largest <c>count</c> that <c>updated_since</c> scans (every record's date is looked at).</summary>
    public const int MaxCount = 10_000_000;

    private static readonly string[] WithOffset = ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'"];

    /// <summary>
    /// Reads <c>updated_since</c>: an ISO 8601 date-time, with an offset (or <c>Z</c>) or without one (Vietnam time, +07:00).
    /// A <c>+</c> left unencoded in a URL arrives as a space, and is read as <c>+</c>. Null when the parameter is absent.
    /// </summary>
    public static bool TryParse(IQueryCollection query, out DateTimeOffset? since, out string? error)
    {
        since = null;
        error = null;
        StringValues raw = query["updated_since"];
        if (StringValues.IsNullOrEmpty(raw))
        {
            return true;
        }

        string value = raw.Count == 1 ? raw[0]!.Replace(' ', '+') : string.Empty;
        if (DateTimeOffset.TryParseExact(value, WithOffset, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset instant))
        {
            since = instant;
            return true;
        }

        if (DateTime.TryParseExact(value, "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture, DateTimeStyles.None, out DateTime local))
        {
            since = new DateTimeOffset(local, GeneratedDataset.VietnamOffset);
            return true;
        }

        error = "updated_since must be an ISO 8601 date-time such as 2025-09-28T16:59:59+07:00 (without an offset: Vietnam time, +07:00)";
        return false;
    }

    /// <summary>
    /// The list's entries in id order: a record's id, or the negated id of a tombstone. Looks at every record's date
    /// (<see cref="GeneratedDataset.IsUpdatedSince"/>) without writing any record.
    /// </summary>
    public static int[] Scan(ulong seed, in RevisionPlan plan, DateTimeOffset since)
    {
        long from = GeneratedDataset.VietnamTicks(since);
        var entries = new List<int>();
        long end = (long)plan.Count + plan.Added;
        for (long index = 0; index < end; index++)
        {
            int id = (int)(index + 1);
            if (plan.IsDeleted(index))
            {
                if (GeneratedDataset.DeletedTicks(seed, plan, index) >= from)
                {
                    entries.Add(-id);
                }
            }
            else if (GeneratedDataset.IsUpdatedSince(seed, plan, index, from))
            {
                entries.Add(id);
            }
        }

        return [.. entries];
    }
}

/// <summary>
/// The last few <c>updated_since</c> lists, so that paging through one scans the dataset once. Thread-safe; concurrent
/// requests for the same list share one scan.
/// </summary>
internal sealed class UpdatedSinceCache
{
    private const int Capacity = 4;

    private readonly Lock _lock = new();
    private readonly LinkedList<(Key Key, Lazy<int[]> Entries)> _lists = new();

    public int[] Get(ulong seed, RevisionPlan plan, DateTimeOffset since)
    {
        var key = new Key(seed, plan.Count, plan.Revision, since.UtcTicks);
        Lazy<int[]> entries;
        lock (_lock)
        {
            LinkedListNode<(Key Key, Lazy<int[]> Entries)>? node = _lists.First;
            while (node is not null && node.Value.Key != key)
            {
                node = node.Next;
            }

            if (node is null)
            {
                node = new((key, new Lazy<int[]>(() => UpdatedSince.Scan(seed, plan, since))));
                if (_lists.Count == Capacity)
                {
                    _lists.RemoveLast();
                }
            }
            else
            {
                _lists.Remove(node);
            }

            _lists.AddFirst(node);
            entries = node.Value.Entries;
        }

        return entries.Value;
    }

    private readonly record struct Key(ulong Seed, int Count, int Revision, long SinceUtcTicks);
}
