using System.Text.Json;
using Hub.Worker.Store;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hub.Api.Datasets;

/// <summary>Settings of <c>GET /api/datasets/{id}/records</c> (section <c>Records</c>).</summary>
public sealed class RecordPageOptions
{
    public const string SectionName = "Records";

    /// <summary>Memory for serialised pages of published versions, in MiB; 0 turns the cache off.</summary>
    public int CacheMegabytes { get; set; } = 64;

    /// <summary>
    /// Longest a dataset's current version is taken from memory without asking PostgreSQL, a safety net only: a
    /// publication drops it at once through <c>hub_dataset_changed</c> notifications.
    /// </summary>
    public TimeSpan HeadMaxAge { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>What the dataset's row says when a page is asked for: its table, current version and registration stamp.</summary>
/// <param name="TableName">The dataset's table in schema <c>open_data</c>.</param>
/// <param name="CurrentVersion">The published version readers see now.</param>
/// <param name="Stamp">
/// <c>hub.datasets.updated_at</c>: changes whenever the registration changes the table (a new column shows as
/// <c>null</c> in every version), so it is part of the cache key and of the ETag.
/// </param>
/// <param name="VersionAsOf">The version current at the requested <c>asOf</c>, when one was given.</param>
public readonly record struct DatasetHead(string TableName, long CurrentVersion, long Stamp, long? VersionAsOf);

/// <summary>A page as the response body (the JSON of <see cref="RecordPage"/>), or only its ETag when the client has it.</summary>
/// <param name="Version">The version the page is of.</param>
/// <param name="Json">The UTF-8 body; null when <paramref name="NotModified"/> or when the version is not published.</param>
/// <param name="ETag">Quoted entity tag; null when the version is not published.</param>
/// <param name="Immutable">True for an explicit, published <c>?version=</c>: its answer never changes.</param>
/// <param name="NotModified">The client's <c>If-None-Match</c> holds <paramref name="ETag"/>: answer 304.</param>
public sealed record RecordPageResponse(long Version, byte[]? Json, string? ETag, bool Immutable, bool NotModified)
{
    /// <summary>The asked <c>?version=</c> is above the dataset's current version: it does not exist (yet).</summary>
    public bool NotPublished => Json is null && !NotModified;

    public static RecordPageResponse Unpublished(long version) => new(version, null, null, false, false);
}

/// <summary>
/// Pages of records, served from memory when they are of a published version.
/// A published version never changes (rows carry <c>_version_from</c>/<c>_version_to</c> and the writer only closes
/// rows at a newer version), so the JSON of a page of version v is the same for ever once v is published: it is
/// cached by (dataset, registration stamp, v, after, limit). The current version comes from <see cref="DatasetHeads"/>
/// (dropped by a notification when a publication commits) or from PostgreSQL; only pages of versions up to the
/// current one are cached or tagged.
/// </summary>
public sealed class RecordPages : IDisposable
{
    private static readonly string SystemColumns = "'{" + string.Join(',', DatasetRegistry.SystemColumns) + "}'::text[]";

    private readonly NpgsqlDataSource dataSource;
    private readonly DatasetHeads heads;
    private readonly JsonSerializerOptions json;
    private readonly MemoryCache? cache;

    public RecordPages(NpgsqlDataSource dataSource, DatasetHeads heads, IOptions<JsonOptions> json, IOptions<RecordPageOptions> options)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(options);
        this.dataSource = dataSource;
        this.heads = heads;
        this.json = json.Value.SerializerOptions;
        if (options.Value.CacheMegabytes > 0)
        {
            cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.Value.CacheMegabytes * 1024L * 1024L });
        }
    }

    /// <summary>
    /// The page of <paramref name="version"/> (else of the version current at <paramref name="asOf"/>, else of the
    /// current one) after <paramref name="after"/>; <paramref name="clientHas"/> tells whether the client's copy (its
    /// <c>If-None-Match</c>) is still good for a given ETag. Null when the dataset does not exist;
    /// <see cref="RecordPageResponse.NotPublished"/> when <paramref name="version"/> is above the current version.
    /// </summary>
    public async Task<RecordPageResponse?> ReadAsync(
        string id, long? version, DateTimeOffset? asOf, string? after, int limit, Func<string, bool> clientHas, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clientHas);
        NpgsqlConnection? connection = null;
        try
        {
            DatasetHead head;
            if (asOf is null && heads.TryGet(id, out var known))
            {
                head = known;
            }
            else
            {
                var generation = heads.Generation;
                connection = await dataSource.OpenConnectionAsync(cancellationToken);
                if (await HeadAsync(connection, id, asOf, cancellationToken) is not { } read)
                {
                    return null;
                }

                head = read;
                if (asOf is null)
                {
                    heads.Store(id, head, generation);
                }
            }

            var at = version ?? head.VersionAsOf ?? head.CurrentVersion;
            if (at > head.CurrentVersion)
            {
                // Above the current version: ask PostgreSQL (the head in memory may lag a publication that just
                // committed) before answering that the version does not exist.
                connection ??= await dataSource.OpenConnectionAsync(cancellationToken);
                if (await HeadAsync(connection, id, asOf: null, cancellationToken) is not { } fresh)
                {
                    return null;
                }

                if (at > fresh.CurrentVersion)
                {
                    return RecordPageResponse.Unpublished(at);
                }

                head = fresh;
            }

            var immutable = version is not null;
            var etag = $"\"{at}-{head.Stamp:x}\"";
            if (clientHas(etag))
            {
                return new RecordPageResponse(at, null, etag, immutable, true);
            }

            var key = new PageKey(id, head.Stamp, at, after, limit);
            if (cache is not null && cache.TryGetValue(key, out byte[]? cached) && cached is not null)
            {
                return new RecordPageResponse(at, cached, etag, immutable, false);
            }

            connection ??= await dataSource.OpenConnectionAsync(cancellationToken);

            // A version published before the dataset moved to a new table (a breaking schema version) is read from
            // its own table, in its own columns.
            var table = at == head.CurrentVersion ? head.TableName : await DatasetRegistry.VersionTableAsync(connection, null, id, at, cancellationToken) ?? head.TableName;
            var (page, sameHead) = await QueryPageAsync(connection, id, head, table, at, readCurrent: at == head.CurrentVersion, after, limit, cancellationToken);
            await connection.DisposeAsync();
            connection = null;
            var body = Serialize(id, at, page, limit);
            if (cache is not null && sameHead)
            {
                cache.Set(key, body, new MemoryCacheEntryOptions { Size = body.Length + 200 });
            }

            return new RecordPageResponse(at, body, etag, immutable, false);
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    public void Dispose() => cache?.Dispose();

    private static async Task<DatasetHead?> HeadAsync(NpgsqlConnection connection, string id, DateTimeOffset? asOf, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = asOf is null
            ? "select d.table_name, d.current_version, d.updated_at, null::bigint from hub.datasets d where d.id = $1 and d.withdrawn_reason is null"
            : """
              select d.table_name, d.current_version, d.updated_at,
                     (select coalesce(max(v.version), 0) from hub.versions v where v.dataset_id = d.id and v.published_at <= $2)
              from hub.datasets d where d.id = $1 and d.withdrawn_reason is null
              """;
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        if (asOf is { } time)
        {
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = time });
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new DatasetHead(
            reader.GetString(0), reader.GetInt64(1), reader.GetFieldValue<DateTime>(2).Ticks, reader.IsDBNull(3) ? null : reader.GetInt64(3));
    }

    /// <summary>
    /// The records of version <paramref name="at"/> in <paramref name="table"/>, as PostgreSQL's JSON array, with how many and the last key.
    /// With <paramref name="readCurrent"/> it reads the partial index of current rows; the same statement reads the
    /// dataset's row, and if a publication came between <see cref="HeadAsync"/> and this statement the page is read again
    /// from the history (<c>_version_from</c>/<c>_version_to</c>),
    /// so a page never mixes versions. <c>SameHead</c> is false when the registration stamp moved in between.
    /// </summary>
    private static async Task<(PageRows Rows, bool SameHead)> QueryPageAsync(
        NpgsqlConnection connection, string id, DatasetHead head, string table, long at, bool readCurrent, string? after, int limit, CancellationToken cancellationToken)
    {
        var current = readCurrent;
        while (true)
        {
            await using var command = connection.CreateCommand();
            command.CommandText =
                $"""
                select d.current_version, d.updated_at, p.records, p.count, p.last
                from hub.datasets d cross join (
                    select coalesce(json_agg(x.record order by x.key), '[]')::text as records, count(*)::int as count, max(x.key) as last
                    from (
                        select t._key as key, to_jsonb(t) - {SystemColumns} as record
                        from {DatasetRegistry.QualifiedTable(table)} t
                        where {(current ? "t._version_to is null" : "t._version_from <= $3 and (t._version_to is null or t._version_to > $3)")}
                          {(after is null ? string.Empty : "and t._key > $4")}
                        order by t._key
                        limit $2
                    ) x
                ) p
                where d.id = $1
                """;
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = at });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = after ?? string.Empty });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw new InvalidOperationException($"dataset '{id}' disappeared while a page of it was read");
            }

            if (current && reader.GetInt64(0) != at)
            {
                current = false;
                continue;
            }

            var rows = new PageRows(reader.GetString(2), reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetString(4));
            return (rows, reader.GetFieldValue<DateTime>(1).Ticks == head.Stamp);
        }
    }

    private byte[] Serialize(string id, long at, PageRows rows, int limit)
    {
        using var document = JsonDocument.Parse(rows.Json);
        var records = document.RootElement.EnumerateArray().ToList();
        return JsonSerializer.SerializeToUtf8Bytes(new RecordPage(id, at, records, rows.Count == limit ? rows.Last : null), json);
    }

    private readonly record struct PageRows(string Json, int Count, string? Last);

    private readonly record struct PageKey(string DatasetId, long Stamp, long Version, string? After, int Limit);
}
