using Aether.Labs.Store.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Aether.Labs.Store.Tests;

/// <summary>
/// Every <see cref="ILabStore"/> behaviour, checked against the provider's own oracle (<c>sqlite3</c>, <c>psql</c>):
/// each provider's test class derives from this one and says how to make a database (<see cref="NewTargetAsync"/>).
/// Each test has a database of its own, removed afterwards even when the test fails.
/// </summary>
public abstract partial class LabStoreContract(ITestOutputHelper output)
{
    protected ITestOutputHelper Output { get; } = output;

    /// <summary>A fresh, empty database of the provider.</summary>
    protected abstract Task<StoreTarget> NewTargetAsync();

    /// <summary>The lab's id as the oracle reads it.</summary>
    protected static async Task<string> LabIdAsync(StoreTarget target, string lab) =>
        (await target.ScalarAsync($"SELECT id FROM labs WHERE name = '{lab}'"))!;

    /// <summary>Opens the store under test on the target's database (the EF Core store unless a class says
    /// otherwise).</summary>
    protected virtual ILabStore OpenStore(StoreTarget target, Func<string, string, string?>? normalize = null) => target.Open(normalize);

    /// <summary>A fresh database with the store migrated; both are the caller's to dispose.</summary>
    protected async Task<(StoreTarget Target, ILabStore Store)> MigratedAsync(Func<string, string, string?>? normalize = null)
    {
        var target = await NewTargetAsync();
        var store = OpenStore(target, normalize);
        try
        {
            await store.MigrateAsync();
            return (target, store);
        }
        catch
        {
            await store.DisposeAsync();
            await target.DisposeAsync();
            throw;
        }
    }
}
