using SnapLoader.Build.Tasks.Elf;

namespace SnapLoader.Build.Tasks.Tests;

[TestClass]
public sealed class ElfMachinesTests
{
    [TestMethod]
    [DataRow("linux-x64", (ushort)62)]
    [DataRow("linux-arm64", (ushort)183)]
    [DataRow("LINUX-X64", (ushort)62)]
    public void ForRuntimeIdentifier_GivesTheMachineLambdaRuns(string rid, ushort machine) =>
        Assert.AreEqual(machine, ElfMachines.ForRuntimeIdentifier(rid));

    [TestMethod]
    [DataRow("linux-musl-x64")]
    [DataRow("linux-arm")]
    [DataRow("win-x64")]
    [DataRow("osx-arm64")]
    [DataRow("linux")]
    [DataRow("")]
    public void ForRuntimeIdentifier_IsNullForOtherIdentifiers(string rid) =>
        Assert.IsNull(ElfMachines.ForRuntimeIdentifier(rid));

    [TestMethod]
    [DataRow((ushort)62, "x86-64")]
    [DataRow((ushort)183, "AArch64")]
    [DataRow((ushort)40, "ARM")]
    [DataRow((ushort)3, "i386")]
    [DataRow((ushort)243, "EM_243")]
    [DataRow((ushort)0, "EM_0")]
    public void Name_IsReadable(ushort machine, string name)
    {
        Assert.AreEqual(name, ElfMachines.Name(machine));
        Assert.AreEqual(name, new ElfFacts("x.so", machine, true, null, [], [], []).MachineName);
    }
}
