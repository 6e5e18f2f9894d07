using System.Data;
using System.Text;
using Dapper;
using Hub.Core.Text;
using Hub.Worker.Store;
using Npgsql;

namespace Hub.Api.Datasets;

public static class ExportApi
{
    /// <summary><c>GET /api/datasets/{id}/export?format=csv|json&amp;version=</c>: a whole version, streamed row by row.</summary>
    public static IEndpointRouteBuilder MapExportApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/datasets/{id}/export", ExportAsync).WithTags("Datasets")
            .WithSummary("A version of the dataset as CSV (UTF-8 with BOM, for Excel) or as a JSON array, streamed");
        return endpoints;
    }

    private static async Task<IResult> ExportAsync(NpgsqlDataSource dataSource, DatasetQueries queries, HttpContext http, string id, string? format, long? version, CancellationToken cancellationToken)
    {
        format ??= "csv";
        if (format is not ("csv" or "json"))
        {
            return TypedResults.Problem("format must be csv or json", statusCode: StatusCodes.Status400BadRequest);
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (await queries.FindAsync(connection, id, cancellationToken) is not { } dataset)
        {
            return await DatasetsApi.NotFoundAsync(queries, id, cancellationToken);
        }

        if (version is { } asked && (asked < 0 || asked > dataset.CurrentVersion))
        {
            return DatasetsApi.VersionNotFound(id, asked);
        }

        // A version published before the dataset moved to a new table (a breaking schema version) is in its own table, with its own columns.
        var at = version ?? dataset.CurrentVersion;
        var tableName = await DatasetRegistry.VersionTableAsync(connection, null, id, at, cancellationToken) ?? dataset.TableName;
        var columns = (await connection.QueryAsync<string>(new CommandDefinition(
            """
            select column_name from information_schema.columns
            where table_schema = 'open_data' and table_name = @TableName and column_name not like '\_%'
            order by ordinal_position
            """, new { TableName = tableName }, cancellationToken: cancellationToken))).AsList();
        var table = DatasetRegistry.QualifiedTable(tableName);
        var selected = format == "json"
            ? "(to_jsonb(t) - @system)::text"
            : string.Join(", ", columns.Select(c => $"to_jsonb(t.{DatasetRegistry.Quote(c)}) #>> '{{}}'"));
        await using var command = new NpgsqlCommand(
            $"""
            select {selected} from {table} t
            where t._version_from <= @at and (t._version_to is null or t._version_to > @at)
            order by t._key
            """, connection);
        command.Parameters.AddWithValue("at", at);
        command.Parameters.AddWithValue("system", DatasetRegistry.SystemColumns.ToArray());

        http.Response.ContentType = format == "json" ? "application/json; charset=utf-8" : "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{id}-v{at}.{format}\"";
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken);
        await using var writer = new StreamWriter(http.Response.Body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: format == "csv"), 65536);
        if (format == "json")
        {
            await writer.WriteAsync('[');
            var first = true;
            while (await reader.ReadAsync(cancellationToken))
            {
                await writer.WriteAsync(first ? "\n" : ",\n");
                await writer.WriteAsync(reader.GetString(0));
                first = false;
            }

            await writer.WriteAsync("\n]\n");
        }
        else
        {
            await writer.WriteAsync(string.Join(',', columns.Select(Csv.Field)) + "\r\n");
            var values = new string[columns.Count];
            while (await reader.ReadAsync(cancellationToken))
            {
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = reader.IsDBNull(i) ? string.Empty : Csv.Field(reader.GetString(i));
                }

                await writer.WriteAsync(string.Join(',', values) + "\r\n");
            }
        }

        await writer.FlushAsync(cancellationToken);
        return TypedResults.Empty;
    }
}
