namespace OptimizedCache.Cache.Core.Internal;

/// <summary>What <see cref="AdaptiveCompressionPolicy"/> has learned about one data type.</summary>
/// <param name="DataType">The data type, or <see cref="AdaptiveCompressionPolicy.OtherBucket"/> when it shares the overflow state.</param>
/// <param name="Ratio">The smoothed compressed/uncompressed ratio.</param>
/// <param name="Samples">How many compressed values were measured.</param>
/// <param name="Incompressible">Whether values of the type are currently stored raw (except re-samples).</param>
internal readonly record struct CompressionTypeStatistics(string DataType, double Ratio, long Samples, bool Incompressible);
