using System.Globalization;
using System.Text;

namespace DemoAgency;

/// <summary>
/// A fault to inject into requests whose path starts with <see cref="Path"/>. Applied in this order: wait
/// <see cref="DelayMs"/>; then answer <see cref="Status"/> (if not 200, with <c>Retry-After</c> when
/// <see cref="RetryAfterSeconds"/> is set), or an HTML error page with status 200 (<see cref="HtmlBody"/>), or the normal
/// response with every Nth record broken (<see cref="BadRecordEvery"/>) and/or cut in the middle (<see cref="Truncate"/>).
/// </summary>
internal sealed record FaultSpec(
    string Path,
    int? Status = null,
    int? Times = null,
    int? DelayMs = null,
    int? BadRecordEvery = null,
    bool? Truncate = null,
    bool? HtmlBody = null,
    int? RetryAfterSeconds = null)
{
    public string? Validate()
    {
        return string.IsNullOrEmpty(Path) || Path[0] != '/' ? "path must start with '/'"
            : Path.StartsWith("/admin", StringComparison.OrdinalIgnoreCase) ? "/admin cannot be faulted"
            : Status is < 100 or > 599 ? "status must be an HTTP status code"
            : Times < 0 ? "times must be >= 0 (0 or null: forever)"
            : DelayMs is < 0 or > 600_000 ? "delayMs must be within 0..600000"
            : BadRecordEvery < 0 ? "badRecordEvery must be >= 0"
            : RetryAfterSeconds < 0 ? "retryAfterSeconds must be >= 0"
            : null;
    }
}

/// <summary>A registered fault; <see cref="Remaining"/> is null when it applies forever.</summary>
internal sealed record RegisteredFault(int Id, FaultSpec Fault, int? Remaining, int Hits);

/// <summary>Marks the current request's records to be broken every <see cref="Every"/> records (1-based position in the list).</summary>
internal sealed record BadRecordFeature(int Every);

/// <summary>The registered faults, thread-safe. The first registered fault matching a path applies and uses up one of its times.</summary>
internal sealed class FaultRegistry
{
    private readonly Lock _lock = new();
    private readonly List<RegisteredFault> _faults = [];
    private int _nextId;

    public RegisteredFault Add(FaultSpec fault)
    {
        lock (_lock)
        {
            var registered = new RegisteredFault(++_nextId, fault, fault.Times is > 0 ? fault.Times : null, 0);
            _faults.Add(registered);
            return registered;
        }
    }

    public RegisteredFault[] List()
    {
        lock (_lock)
        {
            return [.. _faults];
        }
    }

    public int Clear()
    {
        lock (_lock)
        {
            int count = _faults.Count;
            _faults.Clear();
            return count;
        }
    }

    /// <summary>Finds the fault for a request path and counts the request against it.</summary>
    public FaultSpec? Take(string path)
    {
        lock (_lock)
        {
            int i = _faults.FindIndex(f => path.StartsWith(f.Fault.Path, StringComparison.OrdinalIgnoreCase));
            if (i < 0)
            {
                return null;
            }

            RegisteredFault f = _faults[i];
            if (f.Remaining is 1)
            {
                _faults.RemoveAt(i);
            }
            else
            {
                _faults[i] = f with { Remaining = f.Remaining - 1, Hits = f.Hits + 1 };
            }

            return f.Fault;
        }
    }
}

/// <summary>Applies a matching registered fault to each request outside <c>/admin</c>.</summary>
internal sealed class FaultMiddleware(RequestDelegate next, FaultRegistry registry)
{
    private const string HtmlPage =
        "<!DOCTYPE html>\n<html><head><title>Runtime Error</title></head>\n<body><h1>Server Error in '/' Application.</h1>\n"
        + "<h2><i>Runtime Error</i></h2>\n<p>Hệ thống đang bảo trì, vui lòng thử lại sau.</p></body></html>\n";

    public async Task InvokeAsync(HttpContext context)
    {
        string path = context.Request.Path.Value ?? "/";
        FaultSpec? fault = path.StartsWith("/admin", StringComparison.OrdinalIgnoreCase) ? null : registry.Take(path);
        if (fault is null)
        {
            await next(context);
            return;
        }

        HttpResponse response = context.Response;
        response.Headers["X-Injected-Fault"] = "1";
        if (fault.DelayMs is > 0)
        {
            await Task.Delay(fault.DelayMs.Value, context.RequestAborted);
        }

        if (fault.Status is { } status && status != StatusCodes.Status200OK)
        {
            response.StatusCode = status;
            if (fault.RetryAfterSeconds is { } retryAfter)
            {
                response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
            }

            await AgencyJson.Error(status, $"injected fault: status {status}").ExecuteAsync(context);
            return;
        }

        if (fault.HtmlBody is true)
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/html; charset=utf-8";
            await response.WriteAsync(HtmlPage, Encoding.UTF8, context.RequestAborted);
            return;
        }

        if (fault.BadRecordEvery is > 0)
        {
            context.Features.Set(new BadRecordFeature(fault.BadRecordEvery.Value));
        }

        if (fault.Truncate is not true)
        {
            await next(context);
            return;
        }

        // Buffer the whole response, then send only its first half (at least one byte short, on a UTF-8 character boundary), with a matching Content-Length.
        Stream original = response.Body;
        using var buffer = new MemoryStream();
        response.Body = buffer;
        try
        {
            await next(context);
            await response.BodyWriter.FlushAsync(context.RequestAborted);
        }
        finally
        {
            response.Body = original;
        }

        byte[] bytes = buffer.GetBuffer();
        int length = (int)Math.Min(buffer.Length / 2, Math.Max(buffer.Length - 1, 0));
        while (length > 0 && (bytes[length] & 0xC0) == 0x80)
        {
            length--; // cut between UTF-8 characters: the body is valid UTF-8 but incomplete JSON
        }

        response.ContentLength = length;
        await original.WriteAsync(bytes.AsMemory(0, length), context.RequestAborted);
    }
}

/// <summary><c>/admin/faults</c>: register (POST), list (GET), clear (DELETE).</summary>
internal static class FaultEndpoints
{
    public static void MapFaultAdmin(this IEndpointRouteBuilder app)
    {
        app.MapPost("/admin/faults", (FaultSpec fault, FaultRegistry registry) =>
            fault.Validate() is { } error
                ? AgencyJson.Error(StatusCodes.Status400BadRequest, error)
                : Results.Json(registry.Add(fault), AgencyJson.Context.RegisteredFault, AgencyJson.ContentType, StatusCodes.Status201Created));

        app.MapGet("/admin/faults", (FaultRegistry registry) =>
            Results.Json(registry.List(), AgencyJson.Context.RegisteredFaultArray, AgencyJson.ContentType));

        app.MapDelete("/admin/faults", (FaultRegistry registry) =>
        {
            registry.Clear();
            return Results.NoContent();
        });
    }
}
