using System.Security.Cryptography;
using System.Text;
using Dapper;
using Hub.Worker.Store;
using Npgsql;

namespace Hub.Worker.Access;

/// <summary>
/// What a key allows. <see cref="Agency"/>: push and confirm the data of its own agency (regulation Art. 4.4).
/// <see cref="Auditor"/>: read raw payloads, quarantine and run details (personal data, Decree 13/2023).
/// <see cref="Operator"/>: an auditor's reads, plus running connectors, replays and waivers.
/// </summary>
public static class KeyRoles
{
    public const string Agency = "agency";
    public const string Operator = "operator";
    public const string Auditor = "auditor";

    /// <summary>The roles of staff keys (the ICT department's people), as opposed to agency keys.</summary>
    public static readonly IReadOnlyList<string> Staff = [Operator, Auditor];
}

/// <summary>A key as issued: its id (to revoke it) and the key itself, which is shown once and never stored.</summary>
public sealed record IssuedKey(string KeyId, string Holder, string Role, string Key);

/// <summary>Whom an active key belongs to: an agency code (role <see cref="KeyRoles.Agency"/>) or a staff member's name.</summary>
public sealed record KeyHolder(string KeyId, string Holder, string Role);

/// <summary>A key as listed: ids and dates, never the key.</summary>
public sealed record ListedKey(string KeyId, string Holder, string Role, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>
/// API keys of agencies and staff, one implementation for both. A key is <c>nthub_{id}_{secret}</c> with 32 random
/// bytes of secret; PostgreSQL keeps only its SHA-256 (<c>hub.api_keys</c>), so a key cannot be read back, only revoked.
/// </summary>
public sealed class ApiKeys(NpgsqlDataSource dataSource, TimeProvider time, AuditChain audit)
{
    private const string Prefix = "nthub_";

    public async Task<IssuedKey> IssueAsync(string holder, string role, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(holder);
        ArgumentException.ThrowIfNullOrWhiteSpace(role);
        var keyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var key = $"{Prefix}{keyId}_{Base64Url(RandomNumberGenerator.GetBytes(32))}";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into hub.api_keys (key_id, holder, role, key_sha256, created_at)
            values (@keyId, @holder, @role, @hash, @now)
            """,
            new { keyId, holder, role, hash = Hash(key), now = time.GetUtcNow() }, transaction, cancellationToken: cancellationToken));
        await audit.AppendEventAsync(connection, transaction, "key issued", null, new { keyId, holder, role }, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new IssuedKey(keyId, holder, role, key);
    }

    /// <summary>Revokes a key of one of <paramref name="roles"/>; returns false when no such active key has that id.</summary>
    public async Task<bool> RevokeAsync(string keyId, IReadOnlyList<string> roles, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var revoked = await connection.ExecuteAsync(new CommandDefinition(
            "update hub.api_keys set revoked_at = @now where key_id = @keyId and role = any(@roles) and revoked_at is null",
            new { keyId, roles = roles.ToArray(), now = time.GetUtcNow() }, transaction, cancellationToken: cancellationToken)) > 0;
        if (revoked)
        {
            await audit.AppendEventAsync(connection, transaction, "key revoked", null, new { keyId }, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return revoked;
    }

    /// <summary>The holder of an active key, or null for an unknown, malformed or revoked key.</summary>
    public async Task<KeyHolder?> AuthenticateAsync(string? key, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(key) || !key.StartsWith(Prefix, StringComparison.Ordinal) || key.Length > 200)
        {
            return null;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<KeyHolder>(new CommandDefinition(
            "select key_id as KeyId, holder as Holder, role as Role from hub.api_keys where key_sha256 = @hash and revoked_at is null",
            new { hash = Hash(key) }, cancellationToken: cancellationToken));
    }

    /// <summary>Keys of <paramref name="roles"/>, of one holder or of all.</summary>
    public async Task<IReadOnlyList<ListedKey>> ListAsync(IReadOnlyList<string> roles, string? holder, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string KeyId, string Holder, string Role, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)>(new CommandDefinition(
            """
            select key_id, holder, role, created_at, revoked_at from hub.api_keys
            where role = any(@roles) and (@holder::text is null or holder = @holder)
            order by holder, created_at
            """, new { roles = roles.ToArray(), holder }, cancellationToken: cancellationToken));
        return rows.Select(r => new ListedKey(r.KeyId, r.Holder, r.Role, r.CreatedAt, r.RevokedAt)).ToList();
    }

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
