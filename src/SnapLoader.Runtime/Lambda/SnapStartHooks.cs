using System.Reflection;

namespace SnapLoader.Runtime;

/// <summary>
/// Binds SnapLoader's hooks to Lambda SnapStart through Amazon.Lambda.Core's SnapshotRestore, found by name:
/// every deployed function ships Amazon.Lambda.Core (2.5.0 or later has the class), and SnapLoader must not add a
/// reference to it. Hooks registered after the function's init are ignored by Lambda, so this runs during init.
/// </summary>
internal static class SnapStartHooks
{
    private const string SnapshotRestoreType = "Amazon.Lambda.Core.SnapshotRestore, Amazon.Lambda.Core";

    /// <summary>Registers the hooks; false when Amazon.Lambda.Core (2.5.0+) is not there, as in a local run.</summary>
    public static bool TryRegister(Func<ValueTask> beforeSnapshot, Func<ValueTask> afterRestore)
    {
        Type? type;
        try
        {
            type = Type.GetType(SnapshotRestoreType, throwOnError: false);
        }
        catch (Exception e) when (e is FileLoadException or BadImageFormatException)
        {
            return false;
        }
        var registerBefore = type?.GetMethod("RegisterBeforeSnapshot", BindingFlags.Public | BindingFlags.Static, [typeof(Func<ValueTask>)]);
        var registerAfter = type?.GetMethod("RegisterAfterRestore", BindingFlags.Public | BindingFlags.Static, [typeof(Func<ValueTask>)]);
        if (registerBefore is null || registerAfter is null)
        {
            return false;
        }
        registerBefore.Invoke(null, [beforeSnapshot]);
        registerAfter.Invoke(null, [afterRestore]);
        return true;
    }
}
