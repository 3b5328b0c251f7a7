namespace SnapLoader.Tests;

/// <summary>Sets environment variables of this process (null removes one) and puts the old values back on dispose.</summary>
internal sealed class EnvironmentScope : IDisposable
{
    private readonly Dictionary<string, string?> _saved = new(StringComparer.Ordinal);

    public EnvironmentScope(Dictionary<string, string?>? values = null)
    {
        foreach (var (name, value) in values ?? [])
        {
            Set(name, value);
        }
    }

    /// <summary>Sets one more variable; its value from before the scope comes back on dispose.</summary>
    public void Set(string name, string? value)
    {
        _saved.TryAdd(name, Environment.GetEnvironmentVariable(name));
        Environment.SetEnvironmentVariable(name, value);
    }

    public void Dispose()
    {
        foreach (var (name, value) in _saved)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
    }
}
