using System.Security.Cryptography;
using System.Text;
using Dapper;
using Hub.Worker.Store;
using Npgsql;

namespace Hub.Worker.Ingest;

/// <summary>A key as issued: its id (to revoke it) and the key itself, which is shown once and never stored.</summary>
public sealed record IssuedKey(string KeyId, string AgencyCode, string Key);

/// <summary>
/// API keys issued to agencies for push ingestion (regulation Art. 4.4, 12.3). A key is <c>nthub_{id}_{secret}</c>
/// with 32 random bytes of secret; PostgreSQL keeps only its SHA-256, so a key cannot be read back, only revoked.
/// </summary>
public sealed class AgencyKeys(NpgsqlDataSource dataSource, TimeProvider time, AuditChain audit)
{
    private const string Prefix = "nthub_";

    public async Task<IssuedKey> IssueAsync(string agencyCode, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(agencyCode);
        var keyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var key = $"{Prefix}{keyId}_{Base64Url(RandomNumberGenerator.GetBytes(32))}";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into hub.agency_keys (key_id, agency_code, key_sha256, created_at)
            values (@keyId, @agencyCode, @hash, @now)
            """,
            new { keyId, agencyCode, hash = Hash(key), now = time.GetUtcNow() }, cancellationToken: cancellationToken));
        await audit.AppendEventAsync("key issued", null, new { keyId, agencyCode }, cancellationToken);
        return new IssuedKey(keyId, agencyCode, key);
    }

    /// <summary>Revokes a key; returns false when no active key has that id.</summary>
    public async Task<bool> RevokeAsync(string keyId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var revoked = await connection.ExecuteAsync(new CommandDefinition(
            "update hub.agency_keys set revoked_at = @now where key_id = @keyId and revoked_at is null",
            new { keyId, now = time.GetUtcNow() }, cancellationToken: cancellationToken)) > 0;
        if (revoked)
        {
            await audit.AppendEventAsync("key revoked", null, new { keyId }, cancellationToken);
        }

        return revoked;
    }

    /// <summary>The agency an active key belongs to, or null for an unknown, malformed or revoked key.</summary>
    public async Task<string?> AuthenticateAsync(string? key, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(key) || !key.StartsWith(Prefix, StringComparison.Ordinal) || key.Length > 200)
        {
            return null;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "select agency_code from hub.agency_keys where key_sha256 = @hash and revoked_at is null",
            new { hash = Hash(key) }, cancellationToken: cancellationToken));
    }

    /// <summary>Keys of an agency (or of all agencies): ids and dates only.</summary>
    public async Task<IReadOnlyList<(string KeyId, string AgencyCode, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)>> ListAsync(string? agencyCode, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<(string, string, DateTimeOffset, DateTimeOffset?)>(new CommandDefinition(
            """
            select key_id, agency_code, created_at, revoked_at from hub.agency_keys
            where @agencyCode::text is null or agency_code = @agencyCode
            order by agency_code, created_at
            """, new { agencyCode }, cancellationToken: cancellationToken))).AsList();
    }

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
