using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Hub.Core.Records;
using Hub.Worker.Store;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Hub.IntegrationTests;

/// <summary>
/// The digests of a version's rows and closed keys, which the worker hashes as the texts stream in: byte for byte what
/// each entry format's SQL definition (<c>sha256</c> over <c>string_agg</c>) gives, so entries already in chains verify.
/// </summary>
[Collection(HubTestGroup.Name)]
public sealed class AuditDigestTests(HubFixture hub)
{
    private const string Dataset = "it-audit-digest";

    /// <summary>The dataset whose version entries are written over in earlier formats.</summary>
    private const string OldFormats = "it-audit-formats";

    private static readonly string EmptyDigest = Convert.ToHexStringLower(SHA256.HashData([]));

    private AuditChain Chain => hub.Worker.Services.GetRequiredService<AuditChain>();

    [Fact]
    public async Task Version_digests_are_what_the_sql_definition_of_format_4_gives_for_rows_with_any_kind_of_value()
    {
        var records = Records();
        TestAgency.Serve(hub.Agency, Dataset, records);
        var inserted = await hub.SyncAsync(Dataset);
        // Changed, deleted and added records (keys with a line break, a tab, a backslash, quotes closed), then deletions only.
        var changed = records.Skip(1).Select(r => (object)new Dictionary<string, object?>((Dictionary<string, object?>)r) { ["so"] = 1.5m }).ToList();
        changed.Add(Record("Ω \\\"mới\"\r\n", "thêm\u00a0mới", 2m, 2, true, "2025-12-31", "2025-12-31T23:59:59.999999+14:00", null, null));
        TestAgency.Serve(hub.Agency, Dataset, changed);
        var updated = await hub.SyncAsync(Dataset);
        TestAgency.Serve(hub.Agency, Dataset, changed.Take(2).ToList());
        var deleted = await hub.SyncAsync(Dataset);

        Assert.Equal((5L, 4L, 1L, 1L, 3L), (inserted.Inserted, updated.Updated, updated.Inserted, updated.Deleted, deleted.Deleted));
        var digests = new List<(string Rows, string Closed)>();
        foreach (var version in new[] { inserted.Version!.Value, updated.Version!.Value, deleted.Version!.Value })
        {
            var (stored, defined) = await DigestsAsync(version);
            Assert.Equal(defined, stored);
            digests.Add(stored);
        }

        Assert.Equal((true, false, false), (digests[0].Closed == EmptyDigest, digests[1].Closed == EmptyDigest, digests[2].Closed == EmptyDigest));
        Assert.Equal((false, false, true), (digests[0].Rows == EmptyDigest, digests[1].Rows == EmptyDigest, digests[2].Rows == EmptyDigest));
        var audit = await Chain.VerifyAsync(CancellationToken.None);
        Assert.True(audit.Intact, audit.FirstBroken);
    }

    [Fact]
    public async Task The_rows_digest_of_a_first_version_computed_from_staging_is_the_one_of_its_rows_in_the_table()
    {
        const string dataset = "it-audit-staged";
        TestAgency.Serve(hub.Agency, dataset, Records());
        var run = await hub.SyncAsync(dataset);
        Assert.Equal(5L, run.Inserted);

        // The run's staging table as it stood before the publication (the writer drops it then), from the rows it
        // loaded, and two more it does not load: a record staged unchanged and an agency's deletion.
        await using var connection = new NpgsqlConnection(hub.ConnectionString);
        await connection.OpenAsync();
        var data = string.Concat((await connection.QueryAsync<string>(
            "select column_name from information_schema.columns where table_schema = 'open_data' and table_name = 'it_audit_staged' and column_name !~ '^_' order by ordinal_position"))
            .Select(c => $"\"{c}\", "));
        var staging = StagingTable.Of(run.Id);
        await connection.ExecuteAsync(
            $"""
            create unlogged table {staging} as
            select {data}_key, _hash, _batch as _sequence, 0 as _ordinal, true as _changed, false as _deleted from open_data.it_audit_staged;
            insert into {staging} select {data}_key || ' unchanged', _hash, _sequence, 1, false, false from {staging} where _key = 'NULL';
            insert into {staging} select {data}_key || ' deleted', _hash, _sequence, 2, true, true from {staging} where _key = 'NULL';
            """);
        try
        {
            var staged = await AuditChain.StagedRowsDigestAsync(hub.Worker.Services.GetRequiredService<NpgsqlDataSource>(), run.Id, "it_audit_staged", run.Version!.Value, CancellationToken.None);

            var stored = await connection.QuerySingleAsync<(string Rows, string[] Columns)>(
                "select rows_digest, digest_columns from hub.versions where dataset_id = @dataset and version = @Version", new { dataset, run.Version });
            Assert.Equal(stored.Columns, staged.Columns);
            Assert.Equal(stored.Rows, staged.Digest);
        }
        finally
        {
            await connection.ExecuteAsync($"drop table {staging}");
        }
    }

    [Fact]
    public async Task Version_entries_of_formats_1_to_3_still_verify()
    {
        var records = Records();
        TestAgency.Serve(hub.Agency, OldFormats, records);
        await hub.SyncAsync(OldFormats);
        var changed = records.Skip(2).Select(r => (object)new Dictionary<string, object?>((Dictionary<string, object?>)r) { ["dem"] = 3 }).ToList();
        TestAgency.Serve(hub.Agency, OldFormats, changed);
        var run = await hub.SyncAsync(OldFormats);
        var version = run.Version!.Value;

        await using var connection = new NpgsqlConnection(hub.ConnectionString);
        await connection.OpenAsync();
        var seq = await connection.ExecuteScalarAsync<long>(
            "select seq from hub.audit_log where kind = 'version' and dataset_id = @OldFormats and version = @version", new { OldFormats, version });
        var chain = (await connection.QueryAsync<(long Seq, string Entry, string PrevHash, string Hash)>(
            "select seq, entry::text, prev_hash, hash from hub.audit_log where seq >= @seq order by seq", new { seq })).ToList();
        var recorded = await connection.QuerySingleAsync<(string Rows, string Closed)>(
            "select rows_digest, closed_digest from hub.versions where dataset_id = @OldFormats and version = @version", new { OldFormats, version });
        var verdicts = new List<string?>();
        foreach (var format in new[] { 1, 2, 3 })
        {
            // The version's entry as an earlier hub wrote it: digests of that format, computed here by its SQL definition.
            var (rows, closed) = await OldFormatDigestsAsync(connection, version, format);
            await connection.ExecuteAsync(
                "update hub.versions set rows_digest = @rows, closed_digest = @closed where dataset_id = @OldFormats and version = @version",
                new { rows, closed, OldFormats, version });
            var entry = await connection.ExecuteScalarAsync<string>(
                """
                select (@Entry::jsonb - 'format' - 'columns'
                  || case when @format < 2 then '{}'::jsonb else jsonb_build_object('format', @format) end
                  || jsonb_build_object('rows_digest', @rows, 'closed_digest', @closed))::text
                """, new { chain[0].Entry, format, rows, closed });
            await RechainAsync(connection, [(chain[0].Seq, entry!), .. chain.Skip(1).Select(e => (e.Seq, e.Entry))], chain[0].PrevHash);
            verdicts.Add((await Chain.VerifyAsync(CancellationToken.None)).FirstBroken);
        }

        await connection.ExecuteAsync(
            "update hub.versions set rows_digest = @Rows, closed_digest = @Closed where dataset_id = @OldFormats and version = @version",
            new { recorded.Rows, recorded.Closed, OldFormats, version });
        await RechainAsync(connection, chain.Select(e => (e.Seq, e.Entry)).ToList(), chain[0].PrevHash);

        Assert.Equal(new string?[] { null, null, null }, verdicts);
        Assert.Equal(chain.Select(e => e.Hash), await connection.QueryAsync<string>("select hash from hub.audit_log where seq >= @seq order by seq", new { seq }));
        Assert.True((await Chain.VerifyAsync(CancellationToken.None)).Intact);
    }

    /// <summary>Text with line breaks, tabs, backslashes, quotes, commas and parentheses, Vietnamese and emoji; nulls, numbers, dates, times, JSON.</summary>
    private static List<object> Records() =>
    [
        Record("a\nb", "dòng 1\ndòng 2\ttab \\ gạch \"ngoặc kép\" 'nháy đơn', (phẩy)", 123.4500m, 9007199254740991, true, "2024-02-29", "2025-03-01T08:00:00+07:00",
            new Dictionary<string, object?> { ["tên"] = "Nguyễn Văn Ấn", ["dòng"] = "x\ny\\z", ["số"] = 1.50m, ["rỗng"] = null }, new object?[] { "x", null, 1, "\"" }),
        Record("Đồng Tháp\t\\", null, -0.001m, -1, false, "1900-01-01", "1999-12-31T23:59:59.123456Z", new Dictionary<string, object?>(), Array.Empty<object>()),
        Record("\"trích\" (,)", string.Empty, 12345678901234.5678m, 0, null, null, null, null, null),
        Record("z 🙂 Ủy ban", " khoảng trắng \r\n", 0m, 7, true, "2025-01-01", "2025-01-01T00:00:00Z",
            new Dictionary<string, object?> { ["a"] = new object[] { 1, 2.5, "Phước Hải 🙂" } }, new object[] { "b", "\\N" }),
        Record("NULL", "NULL", 0.1m, 8, false, "2000-01-01", "2000-01-01T12:00:00-05:30", null, null),
    ];

    private static Dictionary<string, object?> Record(string key, string? note, decimal number, long count, bool? flag, string? date, string? time, object? details, object? labels)
    {
        var record = new Dictionary<string, object?> { ["ma"] = key, ["ghi_chu"] = note, ["so"] = number, ["dem"] = count };
        foreach (var (name, value) in new (string, object?)[] { ("co", flag), ("ngay", date), ("luc", time), ("chi_tiet", details), ("nhan", labels) })
        {
            if (value is not null)
            {
                record[name] = value;
            }
        }

        return record;
    }

    /// <summary>The digests the hub recorded for <paramref name="version"/>, and those format 4's SQL definition gives for its rows.</summary>
    private async Task<((string Rows, string Closed) Stored, (string Rows, string Closed) Defined)> DigestsAsync(long version)
    {
        await using var connection = new NpgsqlConnection(hub.ConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("set local timezone to 'UTC'; set local datestyle to 'ISO, YMD'", transaction: transaction);
        var stored = await connection.QuerySingleAsync<(string Rows, string Closed, string[] Columns)>(
            "select rows_digest, closed_digest, digest_columns from hub.versions where dataset_id = @Dataset and version = @version", new { Dataset, version }, transaction);
        var defined = await connection.QuerySingleAsync<(string, string)>(
            $"""
            select
              (select encode(sha256(convert_to(coalesce(string_agg(row({string.Join(", ", stored.Columns.Select(c => $"t.\"{c}\""))})::text, E'\n' order by t._key collate "C"), ''), 'UTF8')), 'hex')
               from open_data.it_audit_digest t where t._version_from = @version),
              (select encode(sha256(convert_to(coalesce(string_agg(t._key, E'\n' order by t._key collate "C"), ''), 'UTF8')), 'hex')
               from open_data.it_audit_digest t where t._version_to = @version)
            """, new { version }, transaction);
        return ((stored.Rows, stored.Closed), defined);
    }

    /// <summary>The digests of formats 1 to 3 by their SQL definition: of each row's JSON hash, keys in the database's collation order (the key column's until migration 0017).</summary>
    private static async Task<(string Rows, string Closed)> OldFormatDigestsAsync(NpgsqlConnection connection, long version, int format)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("set local timezone to 'UTC'; set local datestyle to 'ISO, YMD'", transaction: transaction);
        var row = format < 2 ? "to_jsonb(t) - '_version_to' - added.columns" : "jsonb_strip_nulls(to_jsonb(t) - '_version_to')";
        return await connection.QuerySingleAsync<(string, string)>(
            $"""
            select
              (select encode(sha256(convert_to(coalesce(string_agg(encode(sha256(convert_to(({row})::text, 'UTF8')), 'hex'), '' order by t._key collate "default"), ''), 'UTF8')), 'hex')
               from open_data.it_audit_formats t,
                    (select coalesce(array_agg(column_name), array[]::text[]) as columns from hub.added_columns
                     where table_name = 'it_audit_formats' and after_version >= @version) added
               where t._version_from = @version),
              (select encode(sha256(convert_to(coalesce(string_agg(t._key, E'\n' order by t._key collate "default"), ''), 'UTF8')), 'hex')
               from open_data.it_audit_formats t where t._version_to = @version)
            """, new { version }, transaction);
    }

    /// <summary>Writes <paramref name="entries"/> over the chain from their first one on, each hash linked to the one before.</summary>
    private static async Task RechainAsync(NpgsqlConnection connection, IReadOnlyList<(long Seq, string Entry)> entries, string previous)
    {
        foreach (var (seq, entry) in entries)
        {
            var canonical = RecordHash.CanonicalJson(JsonDocument.Parse(entry).RootElement);
            var hash = Convert.ToHexStringLower(SHA256.HashData([.. Encoding.UTF8.GetBytes(previous + "\n"), .. canonical]));
            await connection.ExecuteAsync("update hub.audit_log set entry = @entry::jsonb, prev_hash = @previous, hash = @hash where seq = @seq", new { entry, previous, hash, seq });
            previous = hash;
        }
    }
}
