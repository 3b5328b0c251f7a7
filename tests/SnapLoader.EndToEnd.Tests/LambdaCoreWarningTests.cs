using SnapLoader.Tests;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>
/// SNAP0008: a class-library function whose published deps.json lacks Amazon.Lambda.Core does not start on Lambda's
/// managed runtime, which loads only what that deps.json lists; a function with its own Main is not concerned.
/// </summary>
[TestClass]
public sealed class LambdaCoreWarningTests
{
    // Amazon.Lambda.Tools' own arguments to dotnet publish on Linux.
    private static readonly string[] s_publishArguments = ["--runtime", "linux-x64", "--self-contained", "false", "/p:GenerateRuntimeConfigurationFiles=true"];

    [TestMethod]
    public void AClassLibraryWithoutLambdaCoreWarnsAndIndeedDoesNotStart()
    {
        var project = FunctionProject.Create("", lambdaCore: false);

        var result = project.Publish(s_publishArguments).EnsureSuccess("dotnet publish");

        // A warning, not an error, although the project treats warnings as errors: MSBuild's own warnings stay warnings.
        StringAssert.Contains(result.Output, "warning SNAP0008: The function 'Function' (Function.dll)");
        StringAssert.Contains(result.Output, "dotnet add package Amazon.Lambda.Core");
        var publish = project.PublishFolder("linux-x64");
        Assert.IsFalse(File.ReadAllText(Path.Combine(publish, "Function.deps.json")).Contains("Amazon.Lambda.Core", StringComparison.Ordinal));

        // What the warning says: the managed runtime does not find Amazon.Lambda.Core, and no request is answered.
        var eventFile = project.WriteEvent("{}");
        var run = LambdaRun.Start(publish, FunctionProject.Handler, eventFile, expectSuccess: false);
        Assert.AreNotEqual(0, run.ExitCode, run.Output);
        Assert.AreEqual(0, run.Responses.Count, run.Output);
        StringAssert.Contains(run.Output, "System.IO.FileNotFoundException: Could not load file or assembly 'Amazon.Lambda.Core,");
    }

    [TestMethod]
    public void AClassLibraryWithLambdaCoreDoesNotWarn()
    {
        var project = FunctionProject.Create("");

        var result = project.Publish(s_publishArguments).EnsureSuccess("dotnet publish");

        Assert.IsFalse(result.Output.Contains("SNAP0008", StringComparison.Ordinal), result.Output);
        StringAssert.Contains(File.ReadAllText(Path.Combine(project.PublishFolder("linux-x64"), "Function.deps.json")), "Amazon.Lambda.Core");
    }

    [TestMethod]
    public void AnExecutableWithoutLambdaCoreDoesNotWarn()
    {
        // A custom runtime: the function is a program with its own Main and brings its own runtime client.
        var project = FunctionProject.Create("", "<OutputType>Exe</OutputType>", """
            namespace Fixture;

            public static class Program
            {
                public static void Main() => Console.WriteLine("a custom runtime");
            }
            """, lambdaCore: false);

        var result = project.Publish(s_publishArguments).EnsureSuccess("dotnet publish");

        Assert.IsFalse(result.Output.Contains("SNAP0008", StringComparison.Ordinal), result.Output);
    }

    [TestMethod]
    public void NoWarnSilencesIt()
    {
        var project = FunctionProject.Create("", "<NoWarn>$(NoWarn);SNAP0008</NoWarn>", lambdaCore: false);

        var result = project.Publish(s_publishArguments).EnsureSuccess("dotnet publish");

        Assert.IsFalse(result.Output.Contains("warning SNAP0008", StringComparison.Ordinal), result.Output);
    }
}
