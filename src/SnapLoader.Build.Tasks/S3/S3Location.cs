namespace SnapLoader.Build.Tasks.S3;

/// <summary>Where the archive goes and how to reach it.</summary>
/// <param name="Bucket">The bucket name.</param>
/// <param name="Key">The object key, derived from the archive's SHA-256.</param>
/// <param name="Region">The bucket's region; null to take it from AWS_REGION, AWS_DEFAULT_REGION or the profile.</param>
/// <param name="Profile">A profile of the shared AWS config and credentials files; null for the SDK's default credential chain.</param>
/// <param name="ServiceUrl">An S3-compatible endpoint such as <c>http://127.0.0.1:4568</c>; null for AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or AWS itself.</param>
public sealed record S3Location(string Bucket, string Key, string? Region, string? Profile, string? ServiceUrl)
{
    /// <summary>The object as <c>s3://bucket/key</c>, the form users paste into the AWS CLI.</summary>
    public string S3Uri => $"s3://{Bucket}/{Key}";

    /// <summary>The object's ARN, the resource an IAM policy has to grant.</summary>
    public string ObjectArn => $"arn:aws:s3:::{Bucket}/{Key}";

    /// <summary>The bucket's ARN.</summary>
    public string BucketArn => $"arn:aws:s3:::{Bucket}";
}
