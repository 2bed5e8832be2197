using OptimizedCache.Api.Apis;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseCacheHeaderDefault();

app.MapLowRiskApi();
app.MapStoreApi();
app.MapWritesApi();
app.MapAdminApi();
app.MapDefaultEndpoints();

app.Run();
