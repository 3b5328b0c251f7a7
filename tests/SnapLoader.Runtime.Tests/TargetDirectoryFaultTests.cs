using SnapLoader.Tests;

namespace SnapLoader.Runtime.Tests;

/// <summary>
/// <see cref="SnapLoaderRuntime.Start"/> when the folder of links (SNAPLOADER_TARGET_DIR, /tmp/snaploader by default)
/// cannot be written: a read-only file system, or one that is full. The probe runs in its own mount namespace
/// (<c>unshare --mount</c>) over a small tmpfs mounted for it, so the machine's /tmp is never touched. Everything
/// verified, then the links fail: SNAP1022, every memory file closed, nothing registered, no link left.
/// </summary>
[TestClass]
public sealed class TargetDirectoryFaultTests
{
    // $1 the mount point, $2 "read-only" or "full", then the command. Prints the links left once the command is done.
    private const string Script = """
        dir=$1; fault=$2; shift 2
        if [ "$fault" = read-only ]; then
          mount -t tmpfs -o ro,size=1m tmpfs "$dir" || exit 77
        else
          # 16 inodes and 64 KiB, all taken but one: the first link fits, the folder the second needs does not.
          mount -t tmpfs -o size=64k,nr_inodes=16 tmpfs "$dir" || exit 77
          mkdir "$dir/snaploader"
          dd if=/dev/zero of="$dir/fill" bs=4k 2>/dev/null
          i=0; while touch "$dir/f$i" 2>/dev/null; do i=$((i+1)); done
          rm "$dir/f0"
        fi
        "$@"; status=$?
        echo "links left: $(find "$dir" -type l | wc -l)"
        exit $status
        """;

    [TestMethod]
    [DataRow("read-only", "errno 30")]
    [DataRow("full", "errno 28")]
    public void AnUnwritableFolderOfLinksFailsWithNothingRegisteredAndNoLinkLeft(string fault, string errno)
    {
        var (manifest, env, _) = StartProbe.PrepareOnnx();
        var mount = Directory.CreateDirectory(Path.Combine(Path.GetDirectoryName(manifest)!, "tmp")).FullName;
        env["SNAPLOADER_TARGET_DIR"] = Path.Combine(mount, "snaploader");

        var result = StartProbe.RunWithOwnMounts(Script, [mount, fault], StartProbe.Command(manifest), Path.GetDirectoryName(manifest)!, env);

        Assert.AreEqual(3, result.ExitCode, result.Output);
        var findings = ProbeProjects.LastJson(result.Output);
        var message = findings["errorMessage"]!.GetValue<string>();
        Assert.AreEqual(RuntimeErrorCodes.TargetDirectoryUnusable, findings["errorCode"]!.GetValue<string>(), message);
        StringAssert.Contains(message, env["SNAPLOADER_TARGET_DIR"]!);
        StringAssert.Contains(message, errno);
        Assert.AreEqual(0, findings["memfds"]!.GetValue<int>(), "every memory file was closed");
        Assert.AreEqual(0, findings["stillRegistered"]!.GetValue<int>(), "no original path answers");
        if (fault == "full")
        {
            // The first link was made, the second failed: the first one was taken away again.
            StringAssert.Contains(message, "models/ResNet18.onnx");
        }
        StringAssert.Contains(result.Output, "links left: 0");
    }
}
