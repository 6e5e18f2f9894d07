using DemoAgency;

// A simulated agency REST/JSON API for the hub's demo and tests (see README.md).
// The content root is the binary's folder, not the working directory (see Hub.Worker/HubHost.cs).
WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning).AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
builder.Services.ConfigureHttpJsonOptions(options => AgencyJson.Configure(options.SerializerOptions));

string dataFile = Startup.DataFile(builder.Configuration);
var units = AdministrativeUnits.Load(dataFile);
var dataset = new GeneratedDataset(units);
builder.Services.AddSingleton(units).AddSingleton(dataset).AddSingleton<FaultRegistry>().AddSingleton<UpdatedSinceCache>();

WebApplication app = builder.Build();
app.UseMiddleware<FaultMiddleware>();
app.MapGet("/health", () => Results.Text("ok"));
app.MapAdministrativeUnits();
app.MapGeneratedDataset();
app.MapFaultAdmin();
Startup.LogWhenStarted(app, dataFile, units, dataset);
app.Run();
