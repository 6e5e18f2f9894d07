using Hub.Api;

// The content root is the binary's folder (with appsettings.json), not the working directory, which .NET would watch
// with everything below it for changes to appsettings files (see Hub.Worker/HubHost.cs).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddHubApi(builder.Configuration);
var app = builder.Build();
app.MapHubApi();
await app.RunAsync();

/// <summary>Entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
