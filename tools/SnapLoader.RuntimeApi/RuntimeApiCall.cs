namespace SnapLoader.RuntimeApi;

/// <summary>One request the runtime made, in the order the server saw it.</summary>
/// <param name="Method">GET or POST.</param>
/// <param name="Path">The path without the API version, for example <c>/runtime/invocation/next</c>.</param>
/// <param name="Milliseconds">When it arrived, counted from the start of the runtime process.</param>
/// <param name="Time">When it arrived, on the clock the runtime's log lines are stamped with.</param>
/// <param name="RequestId">The invocation it belongs to, for the invocation paths.</param>
/// <param name="ErrorType">The <c>Lambda-Runtime-Function-Error-Type</c> header of an error report.</param>
/// <param name="Body">The request body of a POST (the response, or the error document).</param>
public sealed record RuntimeApiCall(string Method, string Path, long Milliseconds, DateTimeOffset Time, string? RequestId, string? ErrorType, string? Body);
