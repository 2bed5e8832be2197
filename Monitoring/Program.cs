using OptimizedCache.Monitoring.Apis;
using OptimizedCache.Monitoring.Report;

if (args.Length > 0 && args[0] == "report")
{
    return await ReportCommand.RunAsync(args[1..], Console.Out, Console.Error);
}

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseControlPanel();
app.MapStatusApi();
app.MapDefaultEndpoints();

await app.RunAsync();
return 0;
