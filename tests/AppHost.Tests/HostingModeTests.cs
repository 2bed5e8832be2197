namespace OptimizedCache.AppHost.Tests;

/// <summary>How the AppHost chooses between containers and local executables, and what it says when it cannot run.</summary>
public sealed class HostingModeTests
{
    [Theory]
    [InlineData("true", true)]
    [InlineData("TRUE", true)]
    [InlineData("false", false)]
    public void AnExplicitSettingDecidesWithoutAskingTheRuntime(string setting, bool containers)
    {
        var mode = HostingMode.Resolve(setting, probe: () => throw new InvalidOperationException("must not ask"));

        Assert.Equal(containers, mode.Containers);
        Assert.Contains(HostingMode.SettingName, mode.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, null, true)]
    [InlineData("auto", null, true)]
    [InlineData("", "docker info: exit code 1", false)]
    public void AutoAsksTheRuntime(string? setting, string? unavailable, bool containers)
    {
        var mode = HostingMode.Resolve(setting, probe: () => unavailable);

        Assert.Equal(containers, mode.Containers);
        if (unavailable is not null)
        {
            Assert.Equal(unavailable, mode.Reason);
        }
    }

    [Fact]
    public void AnyOtherSettingIsRefusedNamingTheValue()
    {
        var error = Assert.Throws<ArgumentException>(() => HostingMode.Resolve("yes"));

        Assert.Contains("'yes'", error.Message, StringComparison.Ordinal);
        Assert.Contains("auto, true or false", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingExecutablesAreNamedWithThePackageThatBringsThem()
    {
        var missing = HostingMode.MissingExecutables(binary => binary == "redis-server" ? "/usr/bin/redis-server" : null);

        var only = Assert.Single(missing);
        Assert.Equal("prometheus (Debian/Ubuntu package 'prometheus')", only);
        Assert.Empty(HostingMode.MissingExecutables(binary => "/usr/bin/" + binary));
    }
}
