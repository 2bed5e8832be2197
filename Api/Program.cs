using OptimizedCache.Api.Apis;

var builder = WebApplication.CreateBuilder(args);

// Origin:Role=Server runs this process as the store every replica shares (see OriginServerApi).
var originServer = builder.Configuration.IsOriginServer();
builder.AddServiceDefaults();
if (originServer)
{
    builder.AddOriginServerServices();
}
else
{
    builder.AddApplicationServices();
}

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
if (originServer)
{
    app.MapOriginServerApi();
}
else
{
    app.UseCacheHeaderDefault();
    app.MapLowRiskApi();
    app.MapStoreApi();
    app.MapWritesApi();
    app.MapAdminApi();
}

app.MapDefaultEndpoints();

app.Run();
