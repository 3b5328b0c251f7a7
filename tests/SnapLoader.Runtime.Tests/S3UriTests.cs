namespace SnapLoader.Runtime.Tests;

[TestClass]
public sealed class S3UriTests
{
    [TestMethod]
    [DataRow("s3://bucket/key.zip", "bucket", "key.zip")]
    [DataRow("S3://my-bucket/snaploader/abc.zip", "my-bucket", "snaploader/abc.zip")]
    public void ParsesBucketAndKey(string text, string bucket, string key)
    {
        Assert.IsTrue(S3Uri.TryParse(text, out var b, out var k));
        Assert.AreEqual(bucket, b);
        Assert.AreEqual(key, k);
    }

    [TestMethod]
    [DataRow("/var/task/archive.zip")]
    [DataRow("s3://bucket")]
    [DataRow("s3://bucket/")]
    [DataRow("s3:///key")]
    public void RejectsWhatIsNotAnObject(string text) => Assert.IsFalse(S3Uri.TryParse(text, out _, out _));
}
