using System.Security.Claims;
using Hub.Api.Access;
using Hub.Core.Freshness;
using Hub.Worker.Freshness;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Hub.Api.Freshness;

/// <summary>
/// A waiver or a "no change for this period" confirmation of one dataset's obligation, as requested. Who gave it is
/// not part of the request: it is recorded from the caller's key (see <see cref="RecordedStatement"/>).
/// </summary>
public sealed record FreshnessStatement(string? Dataset, string? Period, string? Reason);

/// <summary>A recorded waiver or confirmation: the period as normalized, and <c>By</c>, the caller key's holder and key id.</summary>
public sealed record RecordedStatement(string Dataset, string Period, string Reason, string By);

public static class FreshnessApi
{
    /// <summary>
    /// Freshness against the update cycles (Art. 4.6): <c>GET /api/freshness</c>, <c>/connectors</c>, <c>/events</c>,
    /// <c>POST /api/freshness/waivers</c> and <c>/confirmations</c>, <c>GET /api/agencies/{code}/compliance</c> and
    /// <c>GET /api/reports/quarterly/{year}/{quarter}</c>. Reads are public; a waiver needs an operator key, a confirmation
    /// the key of the dataset's agency (Art. 4.4).
    /// </summary>
    public static IEndpointRouteBuilder MapFreshnessApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/freshness").WithTags("Freshness");
        group.MapGet("/", ListAsync).WithSummary("Every obligation (dataset and period) with its state, deadline and the version that fulfilled it");
        group.MapGet("/connectors", ConnectorsAsync).WithSummary("Each connector's last success and whether it is behind its own schedule");
        group.MapGet("/events", EventsAsync).WithSummary("Obligations that turned at risk, late or missing, as published on the bus, newest first");
        group.MapPost("/waivers", (FreshnessStore store, TimeProvider time, ClaimsPrincipal user, FreshnessStatement body, CancellationToken ct) => StatementAsync(store, time, user, body, waiver: true, ct))
            .WithSummary("Waive a dataset's obligation for a period, with the reason; who waived it is the operator key's holder")
            .RequireAuthorization(AccessPolicies.Operator);
        group.MapPost("/confirmations", (FreshnessStore store, TimeProvider time, ClaimsPrincipal user, FreshnessStatement body, CancellationToken ct) => StatementAsync(store, time, user, body, waiver: false, ct))
            .WithSummary("The agency confirms, with its own key, that one of its datasets did not change for an ended period: the obligation is fulfilled")
            .RequireAuthorization(AccessPolicies.Agency);
        endpoints.MapGet("/api/agencies/{code}/compliance", ComplianceAsync).WithTags("Freshness")
            .WithSummary("An agency's compliance over a range of days (default: the quarterly report window holding the as-of day), as of a cut-off");
        endpoints.MapGet("/api/reports/quarterly/{year:int}/{quarter}", QuarterlyAsync).WithTags("Freshness")
            .WithSummary("The quarterly compliance report per agency as JSON, CSV or printable HTML (Vietnamese; lang=en for English)");
        return endpoints;
    }

    private static async Task<Results<Ok<IReadOnlyList<Obligation>>, ProblemHttpResult>> ListAsync(
        FreshnessStore store, TimeProvider time, string? agency, string? dataset, string? state, string? period, DateTimeOffset? asOf, CancellationToken cancellationToken)
    {
        ObligationState? wanted = null;
        if (state is not null)
        {
            if (!FreshnessNames.TryParseState(state, out var parsed))
            {
                return BadRequest("state must be one of " + string.Join(", ", Enum.GetValues<ObligationState>().Select(FreshnessNames.Of)));
            }

            wanted = parsed;
        }

        if (period is not null && !ReportingPeriod.TryParse(period, out _))
        {
            return BadRequest(PeriodHelp(period));
        }

        var now = asOf ?? time.GetUtcNow();
        return TypedResults.Ok(await store.ObligationsAsync(new ObligationFilter(agency, dataset, wanted, period), now, cancellationToken));
    }

    private static async Task<Ok<IReadOnlyList<ConnectorFreshness>>> ConnectorsAsync(
        FreshnessStore store, TimeProvider time, IOptions<FreshnessOptions> options, DateTimeOffset? asOf, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.ConnectorsAsync(asOf ?? time.GetUtcNow(), options.Value.ConnectorGrace, cancellationToken));

    private static async Task<Results<Ok<IReadOnlyList<FreshnessEvent>>, ProblemHttpResult>> EventsAsync(
        FreshnessStore store, string? dataset, int? limit, CancellationToken cancellationToken) =>
        limit is < 1 or > 1000
            ? BadRequest("limit must be between 1 and 1000")
            : TypedResults.Ok(await store.EventsAsync(dataset, limit ?? 100, cancellationToken));

    private static async Task<Results<Created<RecordedStatement>, ProblemHttpResult>> StatementAsync(
        FreshnessStore store, TimeProvider time, ClaimsPrincipal user, FreshnessStatement body, bool waiver, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(body.Dataset) || string.IsNullOrWhiteSpace(body.Reason))
        {
            return BadRequest("dataset, period and reason are all required");
        }

        if (!ReportingPeriod.TryParse(body.Period, out var period))
        {
            return BadRequest(PeriodHelp(body.Period));
        }

        var now = time.GetUtcNow();
        if (!waiver && now < period.EndsAt)
        {
            return BadRequest($"period {period.Id} has not ended yet: confirm 'no change' once it has (from {period.EndsAt:yyyy-MM-dd HH:mm zzz})");
        }

        var owed = await store.ObligationsAsync(new ObligationFilter(Dataset: body.Dataset), now, cancellationToken);
        if (owed.Count == 0 && !await store.DatasetExistsAsync(body.Dataset, cancellationToken))
        {
            return TypedResults.Problem($"dataset '{body.Dataset}' is not in the catalogue", statusCode: StatusCodes.Status404NotFound);
        }

        if (AccessPolicies.AgencyOf(user) is { } agency && owed.Count > 0 && owed[0].AgencyCode != agency)
        {
            return AccessPolicies.OtherAgency(agency, $"dataset '{body.Dataset}'");
        }

        if (!owed.Any(o => o.Period == period.Id))
        {
            return BadRequest($"dataset '{body.Dataset}' owes no obligation for period {period.Id}: its registration and cycle history decide its periods (GET /api/freshness?dataset={body.Dataset})");
        }

        var statement = new RecordedStatement(body.Dataset, period.Id, body.Reason, AccessPolicies.Signature(user));
        var recorded = waiver
            ? await store.AddWaiverAsync(body.Dataset, period.Id, body.Reason, statement.By, now, cancellationToken)
            : await store.AddConfirmationAsync(body.Dataset, period.Id, body.Reason, statement.By, now, cancellationToken);
        return recorded switch
        {
            StatementResult.Recorded => TypedResults.Created($"/api/freshness?dataset={Uri.EscapeDataString(body.Dataset)}&period={period.Id}", statement),
            StatementResult.UnknownDataset => TypedResults.Problem($"dataset '{body.Dataset}' is not in the catalogue", statusCode: StatusCodes.Status404NotFound),
            _ => TypedResults.Problem($"dataset '{body.Dataset}' already has a {(waiver ? "waiver" : "confirmation")} for {period.Id}", statusCode: StatusCodes.Status409Conflict),
        };
    }

    private static async Task<Results<Ok<ComplianceReport>, ProblemHttpResult>> ComplianceAsync(
        FreshnessStore store, TimeProvider time, string code, DateOnly? from, DateOnly? to, DateTimeOffset? asOf, DateTimeOffset? generatedAt, string? lang, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var window = store.Rules.ReportWindowContaining(VietnamCalendar.DayOf(asOf ?? now));
        var first = from ?? window.From;
        var last = to ?? window.To;
        if (last < first)
        {
            return BadRequest("to must not be before from");
        }

        if (!await store.AgencyExistsAsync(code, cancellationToken))
        {
            return TypedResults.Problem($"agency '{code}' has no dataset in the catalogue", statusCode: StatusCodes.Status404NotFound);
        }

        var english = IsEnglish(lang);
        var report = await store.ReportAsync(ReportTitles.Range(first, last, english), first, last, asOf ?? now, generatedAt ?? now, code, cancellationToken);
        return TypedResults.Ok(report);
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> QuarterlyAsync(
        FreshnessStore store, TimeProvider time, int year, string quarter, string? format, string? lang, DateTimeOffset? asOf, DateTimeOffset? generatedAt, CancellationToken cancellationToken)
    {
        if (!QuarterlyReport.TryParseQuarter(year, quarter, out var period))
        {
            return BadRequest("give a year (2000-9999) and a quarter 1-4 or Q1-Q4, e.g. /api/reports/quarterly/2026/Q3");
        }

        if (!ReportRenderer.TryParseFormat(format, out var reportFormat))
        {
            return BadRequest("format must be json, csv or html");
        }

        var now = time.GetUtcNow();
        var report = await QuarterlyReport.RenderAsync(store, period, reportFormat, IsEnglish(lang), asOf ?? now, generatedAt ?? now, cancellationToken);
        var fileName = reportFormat == ReportFormat.Json ? null : $"bao-cao-{period.Id}.{report.Extension}";
        return TypedResults.File(report.Content, report.ContentType, fileName);
    }

    private static bool IsEnglish(string? lang) => string.Equals(lang, "en", StringComparison.OrdinalIgnoreCase);

    private static string PeriodHelp(string? period) =>
        $"'{period}' is not a period id: write 2026-M03 (month), 2026-Q3 (quarter), 2026-H1 (half-year), 2026 (year), 2026-W14 (ISO week) or 2026-11-28 (day)";

    private static ProblemHttpResult BadRequest(string detail) => TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest);
}
