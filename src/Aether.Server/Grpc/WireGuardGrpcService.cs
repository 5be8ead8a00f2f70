using Aether.Hub;
using Aether.Server.Api;
using Aether.Server.Grpc.V1;
using Grpc.Core;

namespace Aether.Server.Grpc;

/// <summary>
/// The hub's gRPC API (<c>Protos/wireguard.proto</c>): the reference's <c>AddNetwork</c>, <c>RemoveNetwork</c> and
/// <c>GetStatus</c>, and Aether's <c>SetPeer</c>, <c>RemovePeer</c>, <c>Attach</c> and <c>Detach</c>, on the same hub as the REST API. A refusal or failure of the hub is answered as the reference
/// answers it, with status OK and <c>success = false</c>, <c>error</c>, <c>error_kind</c> and <c>field_errors</c>;
/// every request is checked before the hub is called, so a refused one changes nothing.
/// </summary>
internal sealed class WireGuardGrpcService(HubHost host, DaemonInfo daemon) : WireGuardService.WireGuardServiceBase
{
    public override async Task<AddNetworkResponse> AddNetwork(AddNetworkRequest request, ServerCallContext context)
    {
        try
        {
            var hubRequest = GrpcMapping.ToHub(request);
            var result = await host.Hub.AddNetworkAsync(hubRequest, context.CancellationToken).ConfigureAwait(false);
            return new AddNetworkResponse
            {
                Success = true,
                TotalNetworks = (uint)host.Hub.ListNetworks().Count,
                WgInterface = result.Network.WgInterface,
                EthInterface = result.Network.EthInterface,
                PublicKey = result.Network.PublicKey,
                Created = result.Created,
            };
        }
        catch (HubException e)
        {
            return HubRefusal.Of(new AddNetworkResponse { TotalNetworks = (uint)host.Hub.ListNetworks().Count }, e);
        }
    }

    public override async Task<RemoveNetworkResponse> RemoveNetwork(RemoveNetworkRequest request, ServerCallContext context)
    {
        try
        {
            GrpcMapping.CheckRemove(request, host.Hub.ListNetworks());
            await host.Hub.RemoveNetworkAsync(request.NetworkId, context.CancellationToken).ConfigureAwait(false);
            return new RemoveNetworkResponse { Success = true, RemainingNetworks = (uint)host.Hub.ListNetworks().Count };
        }
        catch (HubException e)
        {
            return HubRefusal.Of(new RemoveNetworkResponse { RemainingNetworks = (uint)host.Hub.ListNetworks().Count }, e);
        }
    }

    public override async Task<SetPeerResponse> SetPeer(SetPeerRequest request, ServerCallContext context)
    {
        try
        {
            var peer = GrpcMapping.ToHub(request);
            var result = await host.Hub.SetPeerAsync(request.NetworkId, peer, context.CancellationToken).ConfigureAwait(false);
            return new SetPeerResponse
            {
                Success = true,
                Created = result.Created,
                PublicKey = result.Peer.PublicKey,
                Endpoint = result.Peer.Endpoint ?? "",
                AllowedIps = { result.Peer.AllowedIps },
                PersistentKeepalive = (uint)Math.Max(0, result.Peer.PersistentKeepalive),
                HasPresharedKey = result.Peer.HasPresharedKey,
            };
        }
        catch (HubException e)
        {
            return HubRefusal.Of(new SetPeerResponse(), e);
        }
    }

    public override async Task<RemovePeerResponse> RemovePeer(RemovePeerRequest request, ServerCallContext context)
    {
        try
        {
            GrpcMapping.CheckId(request.NetworkId);
            await host.Hub.RemovePeerAsync(request.NetworkId, request.PublicKey, context.CancellationToken).ConfigureAwait(false);
            return new RemovePeerResponse { Success = true };
        }
        catch (HubException e)
        {
            return HubRefusal.Of(new RemovePeerResponse(), e);
        }
    }

    public override async Task<AttachResponse> Attach(AttachRequest request, ServerCallContext context)
    {
        try
        {
            var attach = GrpcMapping.ToHub(request);
            var result = await host.Hub.AttachAsync(request.NetworkId, attach, context.CancellationToken).ConfigureAwait(false);
            return new AttachResponse { Success = true, Created = result.Created, Attachment = GrpcMapping.Attachment(result.Attachment) };
        }
        catch (HubException e)
        {
            return HubRefusal.Of(new AttachResponse(), e);
        }
    }

    public override async Task<DetachResponse> Detach(DetachRequest request, ServerCallContext context)
    {
        try
        {
            GrpcMapping.CheckDetach(request);
            await host.Hub.DetachAsync(request.NetworkId, request.AttachmentId, context.CancellationToken).ConfigureAwait(false);
            return new DetachResponse { Success = true };
        }
        catch (HubException e)
        {
            return HubRefusal.Of(new DetachResponse(), e);
        }
    }

    public override async Task<GetStatusResponse> GetStatus(GetStatusRequest request, ServerCallContext context)
    {
        var status = await host.Hub.GetStatusAsync(context.CancellationToken).ConfigureAwait(false);
        var response = new GetStatusResponse
        {
            Version = daemon.Version,
            NetworkCount = (uint)status.Networks.Count,
            Backend = status.Backend,
        };
        foreach (var network in status.Networks)
        {
            response.Interfaces.Add(GrpcMapping.Interface(network));
            response.Peers.AddRange(network.Peers.Select(p => GrpcMapping.Peer(network.Network, p)));
        }

        return response;
    }
}
