namespace SnapLoader.Build.Tasks.Tests;

/// <summary>
/// <see cref="BucketRegionHint"/>, which reads the bucket's region out of S3's wrong-region answers for both the
/// build (SNAP0033) and the runtime (SNAP1027) (src/Shared, compiled into both). S3's real answers through a proxy are
/// tried in <c>S3WrongRegionAndSessionTests</c> and the runtime's <c>S3RegionTests</c>.
/// </summary>
[TestClass]
public sealed class BucketRegionHintTests
{
    [TestMethod]
    [DataRow("eu-west-1")]
    [DataRow("us-gov-west-1")]
    [DataRow("ap-southeast-12")]
    public void AHeaderThatNamesARegionIsTaken(string header) => Assert.AreEqual(header, BucketRegionHint.FromHeader(header));

    [TestMethod]
    [DataRow(null)]
    [DataRow("")]
    [DataRow("EU")]
    [DataRow("eu-west-1; rm -rf /")]
    [DataRow("eu-west-1\nSet-Cookie: x")]
    public void AHeaderThatIsNoRegionIsNotRepeated(string? header) => Assert.IsNull(BucketRegionHint.FromHeader(header));

    [TestMethod]
    [DataRow("The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'", "eu-west-1")]
    [DataRow("<Error><Code>AuthorizationHeaderMalformed</Code><Region>ap-south-2</Region></Error>", "ap-south-2")]
    [DataRow("<Error><Code>PermanentRedirect</Code><Endpoint>my-bucket.s3.eu-central-1.amazonaws.com</Endpoint></Error>", "eu-central-1")]
    [DataRow("<Endpoint>my-bucket.s3-us-west-2.amazonaws.com</Endpoint>", "us-west-2")]
    public void AMessageOrBodyThatNamesARegionGivesIt(string text, string region) => Assert.AreEqual(region, BucketRegionHint.FromText(text));

    [TestMethod]
    [DataRow(null)]
    [DataRow("Access Denied")]
    [DataRow("<Region>not a region</Region>")]
    [DataRow("expecting 'EU'")]
    public void AMessageThatNamesNoRegionGivesNone(string? text) => Assert.IsNull(BucketRegionHint.FromText(text));
}
