namespace DemoAgency;

/// <summary>
/// Which records exist, and which differ from revision 0, in revision <c>r</c> of a generated dataset of <c>count</c> records.
/// </summary>
/// <remarks>
/// Revision rule. Base records have index <c>i</c> in [0, count) and id <c>i + 1</c>. Revision 0 is exactly those records.
/// Each revision r &gt; 0 is defined relative to revision 0 (not to revision r - 1), with <c>c = r % 100</c> and
/// <c>d = 100 * (r % 10) + (c + 50) % 100</c>:
/// <list type="bullet">
/// <item>changed: every base record with <c>i % 100 == c</c> keeps its id and identity fields (ma_ho_so, ho_ten, ngay_sinh,
/// dia_chi, ma_xa) but gets new trang_thai, so_tien and ghi_chu and an ngay_cap_nhat in the revision's window, after every
/// revision-0 date (so its content always differs);</item>
/// <item>deleted: every base record with <c>i % 1000 == d</c> is absent (d % 100 != c, so a record is never both);</item>
/// <item>added: <c>count / 1000</c> new records with ids <c>count + 1 .. count + count / 1000</c>, dated in the revision's window.</item>
/// </list>
/// For a count divisible by 1000 that is exactly 1 % changed, 0.1 % deleted, 0.1 % added, and total == count.
/// Records are ordered by id; position p maps to an id in O(1).
/// </remarks>
internal readonly record struct RevisionPlan
{
    /// <summary>The largest revision: its window of dates (see GeneratedDataset) must stay within the calendar.</summary>
    public const int MaxRevision = 10_000;

    /// <summary>Why <paramref name="revision"/> cannot be served, or null when it can.</summary>
    public static string? RevisionError(int revision) => revision > MaxRevision ? $"revision must be at most {MaxRevision}" : null;

    public RevisionPlan(int count, int revision)
    {
        Count = count;
        Revision = revision;
        if (revision == 0)
        {
            Total = count;
            return;
        }

        ChangedResidue = revision % 100;
        DeletedResidue = (100 * (revision % 10)) + ((ChangedResidue + 50) % 100);
        Changed = (count / 100) + (ChangedResidue < count % 100 ? 1 : 0);
        Deleted = (count / 1000) + (DeletedResidue < count % 1000 ? 1 : 0);
        Added = count / 1000;
        Total = count - Deleted + Added;
    }

    public int Count { get; }

    public int Revision { get; }

    public int ChangedResidue { get; }

    public int DeletedResidue { get; }

    public int Changed { get; }

    public int Deleted { get; }

    public int Added { get; }

    /// <summary>Number of records in this revision.</summary>
    public int Total { get; }

    public ExpectedCounts Expected => new(Changed, Deleted, Added, Total);

    /// <summary>Id of the record at 0-based position <paramref name="position"/> in id order.</summary>
    public long IdAt(int position)
    {
        if (Revision == 0)
        {
            return position + 1L;
        }

        int survivingBase = Count - Deleted;
        if (position >= survivingBase)
        {
            return Count + 1L + (position - survivingBase);
        }

        // Each block of 1000 base indices has 999 survivors: the one at DeletedResidue is skipped.
        long block = position / 999;
        int inBlock = position % 999;
        return (block * 1000) + inBlock + (inBlock >= DeletedResidue ? 1 : 0) + 1;
    }

    /// <summary>Whether the base record of this index has content different from revision 0.</summary>
    public bool IsChanged(long index) => Revision > 0 && index < Count && index % 100 == ChangedResidue;

    public bool IsAdded(long index) => index >= Count;

    /// <summary>Whether the base record of this index is absent from this revision.</summary>
    public bool IsDeleted(long index) => Revision > 0 && index < Count && index % 1000 == DeletedResidue;
}

/// <summary>Body of <c>/api/generated/{name}/expected</c>.</summary>
internal sealed record ExpectedCounts(int Changed, int Deleted, int Added, int Total);
