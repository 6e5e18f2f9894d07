using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Hub.Core.Freshness;

public enum ReportFormat
{
    Json,
    Csv,
    Html,
}

/// <summary>A rendered report: its bytes, media type and file extension.</summary>
public sealed record RenderedReport(byte[] Content, string ContentType, string Extension);

/// <summary>
/// Renders a <see cref="ComplianceReport"/> as JSON, CSV (UTF-8 with BOM, for spreadsheets) or a printable HTML page
/// in Vietnamese (or English). Output depends on the report only, so the same report gives the same bytes.
/// </summary>
public static class ReportRenderer
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static bool TryParseFormat(string? text, out ReportFormat format) =>
        Enum.TryParse(string.IsNullOrEmpty(text) ? "json" : text, ignoreCase: true, out format) && Enum.IsDefined(format);

    public static RenderedReport Render(ComplianceReport report, ReportFormat format, bool english = false)
    {
        ArgumentNullException.ThrowIfNull(report);
        return format switch
        {
            ReportFormat.Csv => new(Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(Csv(report, english))).ToArray(), "text/csv; charset=utf-8", "csv"),
            ReportFormat.Html => new(Encoding.UTF8.GetBytes(Html(report, english)), "text/html; charset=utf-8", "html"),
            _ => new(JsonSerializer.SerializeToUtf8Bytes(report, Json), "application/json; charset=utf-8", "json"),
        };
    }

    private static readonly string[] HeadersVi =
    [
        "Mã cơ quan", "Cơ quan", "Số bộ dữ liệu", "Nghĩa vụ đến hạn", "Đúng hạn", "Trễ hạn", "Không cập nhật", "Được miễn",
        "Chưa xác định", "Tỷ lệ tuân thủ", "Số ngày trễ (trung vị)", "Số bản ghi công bố", "Tỷ lệ bản ghi bị cách ly",
    ];

    private static readonly string[] HeadersEn =
    [
        "Agency code", "Agency", "Datasets", "Obligations due", "On time", "Late", "Missing", "Waived",
        "Pending", "Compliance rate", "Median days late", "Records published", "Quarantine rate",
    ];

    private static string[] Cells(AgencyCompliance a) =>
    [
        a.AgencyCode, a.AgencyName, Number(a.Datasets), Number(a.Due), Number(a.OnTime), Number(a.Late), Number(a.Missing),
        Number(a.Waived), Number(a.Pending), Decimal(a.ComplianceRate), Decimal(a.MedianDaysLate), Number(a.RecordsPublished),
        Decimal(a.QuarantineRate),
    ];

    private static string Csv(ComplianceReport report, bool english)
    {
        var csv = new StringBuilder();
        void Line(IEnumerable<string> cells) => csv.Append(string.Join(',', cells.Select(Text.Csv.Field))).Append("\r\n");
        Line(english ? HeadersEn : HeadersVi);
        foreach (var agency in report.Agencies)
        {
            Line(Cells(agency));
        }

        var total = Cells(report.Total);
        total[0] = string.Empty;
        total[1] = english ? "Total" : "Tổng cộng";
        Line(total);
        return csv.ToString();
    }

    private static string Html(ComplianceReport report, bool english)
    {
        string T(string vi, string en) => english ? en : vi;
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $"""
            <!DOCTYPE html>
            <html lang="{T("vi", "en")}">
            <head>
            <meta charset="utf-8">
            <title>{E(report.Title)}</title>
            <style>
            body {"{"} font-family: "Times New Roman", serif; font-size: 12pt; margin: 2cm; color: #000; {"}"}
            h1 {"{"} font-size: 16pt; text-align: center; margin-bottom: 0.2em; {"}"}
            p.meta {"{"} text-align: center; margin: 0.2em 0; {"}"}
            table {"{"} border-collapse: collapse; width: 100%; margin-top: 1em; page-break-inside: auto; {"}"}
            th, td {"{"} border: 1px solid #000; padding: 3px 5px; vertical-align: top; {"}"}
            th {"{"} background: #eee; {"}"}
            td.n {"{"} text-align: right; {"}"}
            tr {"{"} page-break-inside: avoid; {"}"}
            tfoot td {"{"} font-weight: bold; {"}"}
            @page {"{"} size: A4 landscape; margin: 1.5cm; {"}"}
            @media print {"{"} body {"{"} margin: 0; {"}"} th {"{"} background: none; {"}"} {"}"}
            </style>
            </head>
            <body>
            <h1>{E(report.Title)}</h1>
            <p class="meta">{T("Kỳ báo cáo", "Period")}: {Day(report.From, english)} – {Day(report.To, english)} ({T("nghĩa vụ có hạn chót trong kỳ", "obligations whose deadline falls in the period")})</p>
            <p class="meta">{T("Số liệu chốt đến", "Figures as of (cut-off)")}: {Instant(report.CutOff, english)} · {T("Lập lúc", "Generated at")}: {Instant(report.GeneratedAt, english)}</p>
            <p class="meta">{T("Căn cứ Điều 4.6, 11.4, 12.5, 15.2 của Quy chế; giờ Việt Nam (UTC+7)", "Under Art. 4.6, 11.4, 12.5, 15.2 of the regulation; Vietnam time (UTC+7)")}</p>
            <table>
            <thead><tr>
            """);
        foreach (var header in english ? HeadersEn : HeadersVi)
        {
            html.Append("<th>").Append(E(header)).Append("</th>");
        }

        html.Append("</tr></thead>\n<tbody>\n");
        void Row(string[] cells)
        {
            html.Append("<tr>");
            for (var i = 0; i < cells.Length; i++)
            {
                var text = i >= 9 && !english ? cells[i].Replace('.', ',') : cells[i];
                html.Append(i >= 2 ? "<td class=\"n\">" : "<td>").Append(E(text)).Append("</td>");
            }

            html.Append("</tr>\n");
        }

        foreach (var agency in report.Agencies)
        {
            Row(Cells(agency));
        }

        html.Append("</tbody>\n<tfoot>\n");
        var total = Cells(report.Total);
        total[0] = string.Empty;
        total[1] = T("Tổng cộng", "Total");
        Row(total);
        html.Append("</tfoot>\n</table>\n");

        html.Append(CultureInfo.InvariantCulture, $"<h2>{T("Chi tiết nghĩa vụ", "Obligations")}</h2>\n<table>\n<thead><tr>");
        foreach (var header in english
                     ? new[] { "Agency", "Dataset", "Period", "Deadline", "State", "Days late", "Fulfilled at", "Version" }
                     : new[] { "Cơ quan", "Bộ dữ liệu", "Kỳ", "Hạn chót", "Trạng thái", "Số ngày trễ", "Cập nhật lúc", "Phiên bản" })
        {
            html.Append("<th>").Append(E(header)).Append("</th>");
        }

        html.Append("</tr></thead>\n<tbody>\n");
        foreach (var o in report.Obligations)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(o.AgencyCode)}</td><td>{E(o.DatasetId)}</td><td>{E(o.Period)}</td><td>{Day(o.DeadlineDay, english)}</td><td>{E(StateName(o.State, english))}</td><td class=\"n\">{(o.DaysLate is { } d ? Number(d) : string.Empty)}</td><td>{(o.FulfilledAt is { } f ? Instant(f, english) : string.Empty)}</td><td class=\"n\">{(o.FulfilledByVersion is { } v ? Number(v) : o.ConfirmedNoChange ? T("xác nhận không đổi", "confirmed no change") : string.Empty)}</td></tr>\n");
        }

        html.Append("</tbody>\n</table>\n</body>\n</html>\n");
        return html.ToString();
    }

    public static string StateName(ObligationState state, bool english) => state switch
    {
        ObligationState.NotDue => english ? "not due yet" : "chưa đến kỳ",
        ObligationState.Open => english ? "open" : "đang chờ cập nhật",
        ObligationState.AtRisk => english ? "at risk" : "sắp đến hạn",
        ObligationState.OnTime => english ? "on time" : "đúng hạn",
        ObligationState.Late => english ? "late" : "trễ hạn",
        ObligationState.Missing => english ? "missing" : "không cập nhật",
        _ => english ? "waived" : "được miễn",
    };

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Decimal(decimal? value) => value?.ToString("0.####", CultureInfo.InvariantCulture) ?? string.Empty;

    private static string Day(DateOnly day, bool english) =>
        day.ToString(english ? "yyyy-MM-dd" : "dd/MM/yyyy", CultureInfo.InvariantCulture);

    private static string Instant(DateTimeOffset instant, bool english) =>
        VietnamCalendar.ToVietnam(instant).ToString(english ? "yyyy-MM-dd HH:mm:ss zzz" : "HH:mm:ss dd/MM/yyyy (zzz)", CultureInfo.InvariantCulture);

    /// <summary>Escapes markup characters only: Vietnamese letters stay readable in the page source.</summary>
    private static string E(string text) => text
        .Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal);
}
