namespace SnapLoader.Runtime;

/// <summary>
/// The messages of the codes for faults while loading (<see cref="RuntimeErrorCodes.S3RangeFailed"/>,
/// <see cref="RuntimeErrorCodes.LoadDeadlineExceeded"/>, <see cref="RuntimeErrorCodes.S3WrongRegion"/>), in one place
/// so each code always says the same things.
/// </summary>
internal static class FaultErrors
{
    /// <summary>Every attempt at bytes [<paramref name="offset"/>, <paramref name="offset"/>+<paramref name="length"/>) failed with a failure worth retrying.</summary>
    public static SnapLoaderException RangeFailed(string bucket, string key, long offset, long length, long reached, int attempts, TimeSpan elapsed, Exception lastFailure)
    {
        var progress = reached > offset ? $" ({reached - offset:N0} of its {length:N0} bytes had arrived)" : "";
        return new SnapLoaderException(RuntimeErrorCodes.S3RangeFailed,
            $"Bytes {offset}-{offset + length - 1} of s3://{bucket}/{key} (bucket '{bucket}', key '{key}') could not be read after {attempts} attempts " +
            $"over {elapsed.TotalSeconds:F1} s{progress}; the last failure: {S3Failures.Describe(lastFailure)}. S3 or the network kept failing for longer " +
            "than the retries cover: the next init usually passes; if it keeps failing, check the function's route to S3 (a VPC needs an S3 gateway endpoint or NAT) and S3's health in the region.",
            lastFailure);
    }

    /// <summary>S3 answered that the bucket is in another region than <paramref name="asked"/>.</summary>
    public static SnapLoaderException WrongRegion(string bucket, string key, string asked, string? said, string operation, Exception failure)
    {
        var where = said is null ? "another region (S3 did not say which)" : $"region '{said}'";
        var fix = said ?? "the bucket's region";
        return new SnapLoaderException(RuntimeErrorCodes.S3WrongRegion,
            $"S3 answered {operation} on s3://{bucket}/{key} with {S3Failures.Describe(failure)}: bucket '{bucket}' is in {where}, but the request asked region '{asked}'. " +
            $"Publish with SnapLoaderRegion={fix} (the build's bucket), or set AWS_REGION={fix} for a bucket named by SNAPLOADER_ARCHIVE; or keep the archive in a bucket in the function's region.",
            failure);
    }

    /// <summary>The load's deadline passed before it finished.</summary>
    /// <param name="archive">The archive's description (<c>s3://bucket/key</c> or a path).</param>
    /// <param name="timeout">The deadline.</param>
    /// <param name="waited">How long the load ran.</param>
    /// <param name="progress">What the source got done, if it can say (bytes received, failures retried).</param>
    /// <param name="cancellation">The cancellation the deadline caused.</param>
    public static SnapLoaderException DeadlineExceeded(string archive, TimeSpan timeout, TimeSpan waited, string? progress, Exception cancellation) =>
        new(RuntimeErrorCodes.LoadDeadlineExceeded,
            $"Loading {archive} did not finish within its deadline of {timeout.TotalSeconds:0.###} s ({LoadDeadline.Variable}; Lambda gives init 10 s, SnapStart's 130 s): it was stopped after " +
            $"{waited.TotalSeconds:F1} s{(progress is null ? "" : $", {progress}")}. Nothing was loaded. Give the function more memory (more network and CPU), " +
            $"or raise {LoadDeadline.Variable} (SnapStart allows a longer init), or check the function's route to the archive.",
            cancellation);
}
