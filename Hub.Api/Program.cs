using Hub.Api;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddHubApi(builder.Configuration);
var app = builder.Build();
app.MapHubApi();
await app.RunAsync();

/// <summary>Entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
