namespace Aether.Labs.Store;

/// <summary>The SQLite file is not at the last migration the plain-SQL store knows (an older store to migrate, a newer
/// one, or another program's tables): the EF Core store, which owns the migrations, must take it.</summary>
public sealed class LabStoreSchemaException : Exception
{
    /// <summary>Creates the error.</summary>
    /// <param name="location">The file.</param>
    /// <param name="applied">The migrations its history holds.</param>
    /// <param name="expected">The migrations this store works on.</param>
    public LabStoreSchemaException(string location, IReadOnlyList<string> applied, IReadOnlyList<string> expected)
        : base($"lab store {location}: at migration {(applied.Count == 0 ? "(none)" : applied[^1])}, not {expected[^1]}: the EF Core store migrates it")
    {
        Location = location;
        Applied = applied;
    }

    /// <summary>The file.</summary>
    public string Location { get; }

    /// <summary>The migrations its history holds, in order.</summary>
    public IReadOnlyList<string> Applied { get; }
}
