namespace SnapLoader.Runtime;

/// <summary>
/// The one exception SnapLoader.Runtime throws for a failure a user can act on. <see cref="Code"/> is one of
/// <see cref="RuntimeErrorCodes"/>; the message names the file, the archive (path or <c>s3://bucket/key</c>), what was
/// expected and what was found, and what to check.
/// </summary>
public sealed class SnapLoaderException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">One of <see cref="RuntimeErrorCodes"/>.</param>
    /// <param name="message">What went wrong, in full; the code is prefixed to it.</param>
    /// <param name="innerException">The failure underneath, if any.</param>
    public SnapLoaderException(string code, string message, Exception? innerException = null)
        : base($"{code}: {message}", innerException)
    {
        ArgumentException.ThrowIfNullOrEmpty(code);
        Code = code;
    }

    /// <summary>The error code, one of <see cref="RuntimeErrorCodes"/> (for example <c>SNAP1008</c>).</summary>
    public string Code { get; }
}
