namespace Aether.Labs;

/// <summary>
/// Where labs, their nodes, links (with their states) and interface mappings are kept: SQLite in the state directory by
/// default, PostgreSQL by connection string (<c>Aether.Labs.Store</c>). A link is stored once per identity
/// (<see cref="LinkId"/>): the store has a unique constraint on (lab, identity).
/// </summary>
public interface ILabStore : IAsyncDisposable
{
    /// <summary>Creates the schema, or brings it up to date (migrations, the duplicate-link merge among them).</summary>
    Task MigrateAsync(CancellationToken cancellationToken = default);

    /// <summary>Writes the lab, its nodes and its links: a link new to the store is <see cref="LinkStatus.Pending"/>;
    /// one already stored keeps its state; links and nodes no longer in the lab are removed. In one transaction.</summary>
    Task SaveLabAsync(LabSpec lab, string definition, CancellationToken cancellationToken = default);

    /// <summary>
    /// What deploy writes before it touches the kernel, as one write: the lab as <see cref="SaveLabAsync"/> saves it,
    /// then, from the links' states as stored, what <paramref name="intent"/> makes of them (the interface mappings
    /// and the states to write, such as "creating"). Returns every link's state as written, in lab order. A store
    /// should do it in one transaction (the default here makes four calls); <paramref name="intent"/> may then be
    /// called again when the transaction is retried, so it must have no effect of its own.
    /// </summary>
    async Task<IReadOnlyList<LinkState>> SaveForDeployAsync(LabSpec lab, string definition, Func<IReadOnlyList<LinkState>, DeployIntent> intent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(intent);
        await SaveLabAsync(lab, definition, cancellationToken).ConfigureAwait(false);
        var wanted = intent(await GetLinksAsync(lab.Name, cancellationToken).ConfigureAwait(false));
        await SetMappingsAsync(lab.Name, wanted.Mappings, cancellationToken).ConfigureAwait(false);
        await SetLinkStatesAsync(lab.Name, wanted.States, cancellationToken).ConfigureAwait(false);
        return await GetLinksAsync(lab.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The lab, or null.</summary>
    Task<StoredLab?> GetLabAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Every lab, by name.</summary>
    Task<IReadOnlyList<StoredLab>> ListLabsAsync(CancellationToken cancellationToken = default);

    /// <summary>Removes the lab with its nodes, links and mappings; false when there was none.</summary>
    Task<bool> DeleteLabAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>The lab's links with their states, in the order they were first stored.</summary>
    Task<IReadOnlyList<LinkState>> GetLinksAsync(string lab, CancellationToken cancellationToken = default);

    /// <summary>Writes the states of these links (matched by identity), in one transaction.</summary>
    Task SetLinkStatesAsync(string lab, IReadOnlyList<LinkState> states, CancellationToken cancellationToken = default);

    /// <summary>The lab's interface mappings, by node then Linux name.</summary>
    Task<IReadOnlyList<InterfaceMapping>> GetMappingsAsync(string lab, CancellationToken cancellationToken = default);

    /// <summary>Replaces the lab's interface mappings with these, in one transaction.</summary>
    Task SetMappingsAsync(string lab, IReadOnlyList<InterfaceMapping> mappings, CancellationToken cancellationToken = default);
}

/// <summary>What <see cref="ILabStore.SaveForDeployAsync"/> writes after the lab: its interface mappings (all of them,
/// replacing those stored) and the states of some of its links (matched by identity).</summary>
/// <param name="Mappings">The lab's interface mappings.</param>
/// <param name="States">The links' states to write.</param>
public sealed record DeployIntent(IReadOnlyList<InterfaceMapping> Mappings, IReadOnlyList<LinkState> States);
