using Aether.Hub;
using Aether.Labs;
using Aether.Labs.Store;

namespace Aether.Server;

internal sealed partial class LabHost
{
    /// <summary>What the lab file is called in the positions of its errors, for a lab sent in a request.</summary>
    public const string DefinitionFile = "definition";

    /// <summary>
    /// Deploys the lab file <paramref name="text"/>: validated whole first (every problem, with its position, and nothing
    /// touched); then stored and applied, every link verified. A lab of that name already deployed is deployed again
    /// with this definition: links and nodes it no longer has are removed (their veths with them), new ones made, the
    /// processes of nodes it no longer has or runs differently stopped. The lab's runtime restarts on the new lab.
    /// </summary>
    /// <returns>Whether the lab is new, its name, and every link's state.</returns>
    public async Task<(bool Created, string Lab, LabResult Result)> DeployAsync(string text, CancellationToken cancellationToken)
    {
        var loaded = LabLoader.Parse(text, DefinitionFile, Profiles);
        if (loaded.Lab is not { } lab || loaded.Errors.Count > 0)
        {
            throw LabRequestException.InvalidLab(loaded.Errors);
        }

        return await WithGateAsync(lab.Name, "deploy", async slot =>
        {
            var existed = await Store.GetLabAsync(lab.Name, Stopping).ConfigureAwait(false) is not null;
            return (!existed, lab.Name, await RedeployAsync(slot, lab, text).ConfigureAwait(false));
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops what keeps the lab, removes everything the lab owns (its namespaces, with what is in them) and
    /// forgets it. False when there is no such lab.</summary>
    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) => WithGateAsync(name, "destroy", async slot =>
    {
        if (await Store.GetLabAsync(name, Stopping).ConfigureAwait(false) is null)
        {
            return false;
        }

        var (_, lab) = await LoadAsync(name, Stopping).ConfigureAwait(false);
        if (lab.IsPlaced)
        {
            await DestroyPlacedAsync(slot, name).ConfigureAwait(false);
            return true;
        }

        await TakeOverAsync(slot).ConfigureAwait(false);
        await Supervisor.StopLabAsync(name).ConfigureAwait(false); // before their namespaces go
        var result = await Controller(lab).DestroyAsync(progress: null, Stopping).ConfigureAwait(false);
        slot.Controller = null;
        if (result.Error is not null)
        {
            slot.Set(Failed, "destroy failed: " + result.Error);
            throw LabRequestException.Failed(name, "destroy", result.Error);
        }

        slot.Set(Stopped, "deleted");
        return true;
    }, cancellationToken);

    /// <summary>Sets a link administratively down (both ends kept down, by the runtime too) or up again.</summary>
    public Task<LinkState> SetAdminStateAsync(string name, string id, bool up, CancellationToken cancellationToken) => WithGateAsync(name, up ? "set up" : "set down", async slot =>
    {
        var (_, lab) = await LoadAsync(name, Stopping).ConfigureAwait(false);
        var link = FindLink(lab, id) ?? throw NoLink(lab, id);
        return await ChangeAsync(slot, Controller(lab), c => c.SetAdminStateAsync(link.Id, up, Stopping)).ConfigureAwait(false)
            ?? throw NoLink(lab, id);
    }, cancellationToken);

    /// <summary>The reference's reconciliation: verifies every link, repairs what is broken, returns the counts.</summary>
    public Task<LabResult> ReconcileAsync(string name, CancellationToken cancellationToken) => WithGateAsync(name, "reconcile", async slot =>
    {
        var (_, lab) = await LoadAsync(name, Stopping).ConfigureAwait(false);
        return await ChangeAsync(slot, Controller(lab), c => c.ReconcileAsync(progress: null, Stopping)).ConfigureAwait(false);
    }, cancellationToken);

    /// <summary>
    /// Hot connect: the lab with one more link between <paramref name="endpoints"/> (<c>node:interface</c>, either
    /// name), written with <see cref="LabWriter"/> and read back with <see cref="LabLoader"/> (its problems are the
    /// request's, and nothing is touched), then deployed; the link is made and verified.
    /// </summary>
    /// <returns>The new link and its state.</returns>
    public Task<LinkState> ConnectAsync(string name, IReadOnlyList<string> endpoints, int? mtu, CancellationToken cancellationToken) => WithGateAsync(name, "connect", async slot =>
    {
        var (stored, lab) = await LoadAsync(name, Stopping).ConfigureAwait(false);
        var ends = endpoints.Select(e => e.Split(':', 2)).Select(p => new LabEndpoint(p[0], string.Empty, p[1])).ToArray();
        var text = LabWriter.Write(lab with { Links = [.. lab.Links, new LabLink(ends[0], ends[1]) { Mtu = mtu }] });
        var loaded = LabLoader.Parse(text, stored.SourcePath ?? name, Profiles);
        if (loaded.Lab is not { } next || loaded.Errors.Count > 0)
        {
            throw LabRequestException.Invalid(FieldErrors(loaded.Errors, lab.Links.Count), name);
        }

        var added = next.Links[^1];
        var result = await RedeployAsync(slot, next with { SourcePath = stored.SourcePath }, text).ConfigureAwait(false);
        return result.Links.First(l => l.Id == added.Id);
    }, cancellationToken);

    /// <summary>Hot disconnect: the lab without the link, deployed (the engine deletes the link's veth, no longer
    /// desired). False when the lab has no such link.</summary>
    public Task<bool> DisconnectAsync(string name, string id, CancellationToken cancellationToken) => WithGateAsync(name, "disconnect", async slot =>
    {
        var (stored, lab) = await LoadAsync(name, Stopping).ConfigureAwait(false);
        if (FindLink(lab, id) is not { } link)
        {
            return false;
        }

        var text = LabWriter.Write(lab with { Links = [.. lab.Links.Where(l => l.Id != link.Id)] });
        var loaded = LabLoader.Parse(text, stored.SourcePath ?? name, Profiles);
        if (loaded.Lab is not { } next || loaded.Errors.Count > 0)
        {
            throw LabRequestException.Failed(name, "disconnect", "the lab without the link does not read back: " + string.Join("; ", loaded.Errors));
        }

        await RedeployAsync(slot, next with { SourcePath = stored.SourcePath }, text).ConfigureAwait(false);
        return true;
    }, cancellationToken);

    /// <summary>Rewrites the lab's interface mappings from the lab and what the fabric holds.</summary>
    public Task<MappingSync> SyncMappingsAsync(string name, CancellationToken cancellationToken) => WithGateAsync(name, "sync", async _ =>
    {
        var (_, lab) = await LoadAsync(name, Stopping).ConfigureAwait(false);
        return await Controller(lab).SyncMappingsAsync(Stopping).ConfigureAwait(false);
    }, cancellationToken);

    /// <summary>The lab as the kernel holds it now: the links' states as a verification reads them, and every link
    /// end's kernel facts, stored nowhere.</summary>
    public Task<LabLiveState> ObserveAsync(LabSpec lab, CancellationToken cancellationToken) =>
        Controller(lab).ObserveAsync(cancellationToken);

    /// <summary>What the kernel holds for each link end of the lab.</summary>
    public Task<IReadOnlyList<InterfaceObservation>> ReadInterfacesAsync(LabSpec lab, CancellationToken cancellationToken) =>
        Controller(lab).ReadInterfacesAsync(cancellationToken);

    /// <summary>The stored lab and the lab its definition reads as (with the file it was deployed from, if any).</summary>
    /// <exception cref="LabRequestException">No such lab (404), or its definition no longer reads (500).</exception>
    public async Task<(StoredLab Stored, LabSpec Lab)> LoadAsync(string name, CancellationToken cancellationToken)
    {
        StoredLab? stored;
        try
        {
            stored = await Store.GetLabAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (LabStoreException ex)
        {
            throw LabRequestException.Failed(name, "store", ex.Message, ex);
        }

        if (stored is null)
        {
            throw LabRequestException.NotFound(name, $"no lab named '{name}'");
        }

        var loaded = LabLoader.Parse(stored.Definition, stored.SourcePath ?? name, Profiles);
        return loaded.Lab is { } lab
            ? (stored, lab with { SourcePath = stored.SourcePath })
            : throw LabRequestException.Failed(name, "read", $"lab {name}: its stored definition no longer reads: {string.Join("; ", loaded.Errors)}");
    }

    /// <summary>
    /// The link <paramref name="id"/> names: its identity (<c>r1:eth1-r2:eth1</c>), or its two endpoints under either
    /// name in either order (<c>r1:Ethernet1-r2:ge-0/0/0</c>), normalised through the nodes' profiles. Names may hold
    /// <c>-</c> too, so every <c>-</c> is tried as the separator.
    /// </summary>
    public LabLink? FindLink(LabSpec lab, string id)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(id);
        if (lab.Links.FirstOrDefault(l => string.Equals(l.Id.Value, id, StringComparison.Ordinal)) is { } exact)
        {
            return exact;
        }

        var kinds = lab.Nodes.ToDictionary(n => n.Name, n => n.Kind, StringComparer.Ordinal);
        LabEndpoint? Endpoint(string text)
        {
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            return colon > 0 && kinds.TryGetValue(text[..colon], out var kind) && Profiles.TryToLinux(kind, text[(colon + 1)..], out var linux, out _)
                ? new LabEndpoint(text[..colon], linux, text[(colon + 1)..])
                : null;
        }

        for (var at = id.IndexOf('-', StringComparison.Ordinal); at >= 0; at = id.IndexOf('-', at + 1))
        {
            if (Endpoint(id[..at]) is { } a && Endpoint(id[(at + 1)..]) is { } b)
            {
                var wanted = LinkId.Of(a, b);
                if (lab.Links.FirstOrDefault(l => l.Id == wanted) is { } link)
                {
                    return link;
                }
            }
        }

        return null;
    }

    /// <summary>Deploys <paramref name="lab"/> in place of what the slot keeps (under the gate): the runtime (and a CLI
    /// runner) stopped, the processes of nodes gone or changed stopped, the lab deployed, then kept again. When the
    /// deploy fails, the lab as the store then has it is kept again.</summary>
    private async Task<LabResult> RedeployAsync(LabSlot slot, LabSpec lab, string text)
    {
        await TakeOverAsync(slot).ConfigureAwait(false);
        try
        {
            await StopChangedProcessesAsync(slot.Controller?.Lab, lab).ConfigureAwait(false);
            var controller = Controller(lab);
            var result = await controller.DeployAsync(text, progress: null, Stopping).ConfigureAwait(false);
            StartKeeping(slot, controller);
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException && slot.Run is null)
        {
            try
            {
                await ResumeAsync(slot, deploy: false).ConfigureAwait(false);
            }
            catch (Exception again) when (again is not OperationCanceledException)
            {
                slot.Set(Failed, "could not be kept after a failed deploy: " + again.Message);
            }

            throw;
        }
    }

    /// <summary>Runs a change of the lab's links with its runtime (and a CLI runner) stopped, then keeps the lab again,
    /// whether the change worked or not.</summary>
    private async Task<T> ChangeAsync<T>(LabSlot slot, LabController controller, Func<LabController, Task<T>> change)
    {
        await TakeOverAsync(slot).ConfigureAwait(false);
        try
        {
            return await change(controller).ConfigureAwait(false);
        }
        finally
        {
            if (!Stopping.IsCancellationRequested)
            {
                StartKeeping(slot, controller);
            }
        }
    }

    private static LabRequestException NoLink(LabSpec lab, string id) => LabRequestException.NotFound(
        lab.Name,
        $"lab {lab.Name} has no link '{id}' (its links: {(lab.Links.Count == 0 ? "none" : string.Join(", ", lab.Links.Select(l => $"{l.Id} ({l})")))})");

    /// <summary>The problems of the lab with a link added at <paramref name="index"/> as the request's fields:
    /// <c>links[3].endpoints[0]: ...</c> is <c>endpoints[0]</c>.</summary>
    private static List<HubFieldError> FieldErrors(IReadOnlyList<LabError> errors, int index)
    {
        var prefix = $"links[{index}]";
        return [.. errors.Select(e =>
        {
            if (!e.Message.StartsWith(prefix, StringComparison.Ordinal))
            {
                return new HubFieldError("endpoints", e.Message);
            }

            var rest = e.Message[prefix.Length..].TrimStart('.');
            var colon = rest.IndexOf(": ", StringComparison.Ordinal);
            return colon < 0 ? new HubFieldError("endpoints", rest) : new HubFieldError(colon == 0 ? "endpoints" : rest[..colon], rest[(colon + 2)..]);
        })];
    }
}
