using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Bench;

/// <summary>
/// The floor for this machine: the same pages fetched by a plain HttpClient and loaded with binary COPY into an
/// equivalent typed table, with no validation, no versioning, no lineage and no messaging.
/// </summary>
internal static class Baseline
{
    public static async Task<StepResult> RunAsync(HttpClient http, string pageUrl, int pageSize, string connectionString, CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using (var setup = dataSource.CreateCommand(
            """
            drop table if exists public.bench_baseline;
            create table public.bench_baseline (
                id bigint primary key, ma_ho_so text, ho_ten text, ngay_sinh date, dia_chi text, ma_xa text,
                so_tien numeric, trang_thai text, ngay_cap_nhat timestamptz, ghi_chu text)
            """))
        {
            await setup.ExecuteNonQueryAsync(cancellationToken);
        }

        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        long rows = 0;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var copy = await connection.BeginBinaryImportAsync(
                         "copy public.bench_baseline (id, ma_ho_so, ho_ten, ngay_sinh, dia_chi, ma_xa, so_tien, trang_thai, ngay_cap_nhat, ghi_chu) from stdin (format binary)",
                         cancellationToken))
        {
            for (var offset = 0; ; offset += pageSize)
            {
                var bytes = await http.GetByteArrayAsync($"{pageUrl}&offset={offset}&limit={pageSize}", cancellationToken);
                using var page = JsonDocument.Parse(bytes);
                var data = page.RootElement.GetProperty("data");
                foreach (var r in data.EnumerateArray())
                {
                    await copy.StartRowAsync(cancellationToken);
                    await copy.WriteAsync(r.GetProperty("id").GetInt64(), NpgsqlDbType.Bigint, cancellationToken);
                    await copy.WriteAsync(r.GetProperty("ma_ho_so").GetString(), NpgsqlDbType.Text, cancellationToken);
                    await copy.WriteAsync(r.GetProperty("ho_ten").GetString(), NpgsqlDbType.Text, cancellationToken);
                    await copy.WriteAsync(DateOnly.Parse(r.GetProperty("ngay_sinh").GetString()!, CultureInfo.InvariantCulture), NpgsqlDbType.Date, cancellationToken);
                    await copy.WriteAsync(r.GetProperty("dia_chi").GetString(), NpgsqlDbType.Text, cancellationToken);
                    await copy.WriteAsync(r.GetProperty("ma_xa").GetString(), NpgsqlDbType.Text, cancellationToken);
                    await copy.WriteAsync(r.GetProperty("so_tien").GetDecimal(), NpgsqlDbType.Numeric, cancellationToken);
                    await copy.WriteAsync(r.GetProperty("trang_thai").GetString(), NpgsqlDbType.Text, cancellationToken);
                    await copy.WriteAsync(r.GetProperty("ngay_cap_nhat").GetDateTimeOffset().ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken);
                    var note = r.GetProperty("ghi_chu");
                    await copy.WriteAsync(note.ValueKind == JsonValueKind.Null ? null : note.GetString(), NpgsqlDbType.Text, cancellationToken);
                    rows++;
                }

                if (data.GetArrayLength() < pageSize)
                {
                    break;
                }
            }

            await copy.CompleteAsync(cancellationToken);
        }

        return new StepResult("baseline", rows, clock.Elapsed.TotalSeconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds, Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0, null);
    }
}
