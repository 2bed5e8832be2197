namespace OptimizedCache.ServiceDefaults.Internal;

/// <summary>
/// A registered change to a provider builder (<typeparamref name="TBuilder"/> is the meter or the
/// tracer provider builder), applied in registration order when the provider is built.
/// </summary>
internal sealed record TelemetryBuilderCallback<TBuilder>(Action<IServiceProvider, TBuilder> Configure);
