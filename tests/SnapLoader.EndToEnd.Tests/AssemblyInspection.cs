using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace SnapLoader.EndToEnd.Tests;

/// <summary>Reads a published assembly's metadata without loading it (it targets net8.0 and Linux).</summary>
internal static class AssemblyInspection
{
    public static bool HasType(string assemblyPath, string fullName)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        var metadata = pe.GetMetadataReader();
        return metadata.TypeDefinitions
            .Select(metadata.GetTypeDefinition)
            .Any(t => $"{metadata.GetString(t.Namespace)}.{metadata.GetString(t.Name)}" == fullName);
    }

    /// <summary>Every string literal compiled into the assembly (the #US heap).</summary>
    public static IReadOnlyList<string> StringLiterals(string assemblyPath)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        var metadata = pe.GetMetadataReader();
        var literals = new List<string>();
        var handle = MetadataTokens.UserStringHandle(1);
        while (!handle.IsNil)
        {
            literals.Add(metadata.GetUserString(handle));
            handle = metadata.GetNextHandle(handle);
        }
        return literals;
    }
}
