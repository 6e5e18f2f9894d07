using System.Globalization;

namespace Hub.IntegrationTests;

/// <summary>
/// A dataset in an agency file of its own in the fixture's <c>connectors.d</c>, with its own schema file, for tests
/// that edit a dataset's definition while the hub runs (hot reload); its records are served at <c>/{dataset}</c>.
/// </summary>
public sealed class OwnAgency(HubFixture hub, string datasetId) : IDisposable
{
    private string AgencyFile => Path.Combine(hub.ConnectorsPath, $"own-{datasetId}.yaml");

    private string SchemaFile => Path.Combine(hub.ConnectorsPath, "schemas", $"own-{datasetId}.json");

    /// <summary>Writes the schema, then the agency file naming it; the worker reloads them within its reload interval.</summary>
    public void Write(string schemaJson, int schemaVersion = 1, string primaryKey = "ma_xa", string classification = "public")
    {
        File.WriteAllText(SchemaFile, schemaJson);
        File.WriteAllText(AgencyFile, string.Create(CultureInfo.InvariantCulture, $"""
            version: 1
            agency:
              code: OWN-{datasetId.Replace("it-", "", StringComparison.Ordinal).ToUpperInvariant()}
              name: Cơ quan riêng ({datasetId})
            datasets:
              - id: {datasetId}
                title: Xã phường ({datasetId})
                licence: CC-BY-4.0
                classification: {classification}
                update_cycle: monthly
                schedule: "0 0 3 1 1 ? 2099"
                schema: schemas/own-{datasetId}.json
                schema_version: {schemaVersion}
                primary_key: {primaryKey}
                source:
                  kind: rest
                  url: "{hub.Agency.Url}/{datasetId}?tinh=58"
                  record_path: $.data
                  paging:
                    style: offset
                    page_size: {TestAgency.PageSize}
            """));
    }

    /// <summary>Waits (bounded) until <paramref name="sql"/> (with <c>@id</c> the dataset id) gives true.</summary>
    public async Task UntilAsync(string sql, string what)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!await hub.QueryScalarAsync<bool>(sql, new { id = datasetId }))
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"{datasetId}: {what} did not happen within 30 s");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Waits until the store has registered the dataset with schema version <paramref name="schemaVersion"/> and <paramref name="property"/> in its schema.</summary>
    public Task RegisteredAsync(int schemaVersion, string property) => UntilAsync(
        $"select exists (select 1 from hub.datasets where id = @id and schema_version = {schemaVersion} and schema_json->'properties' ? '{property}')",
        $"registration of schema version {schemaVersion} with '{property}'");

    public void Dispose()
    {
        File.Delete(AgencyFile);
        File.Delete(SchemaFile);
    }
}
