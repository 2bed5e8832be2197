namespace OptimizedCache.Cache.Core.Redis;

/// <summary>When <c>SET</c> writes its value.</summary>
public enum SetCondition
{
    /// <summary>Always.</summary>
    Always,

    /// <summary>Only when the key does not exist (<c>NX</c>).</summary>
    NotExists,

    /// <summary>Only when the key exists (<c>XX</c>).</summary>
    Exists,
}
