using Aether.Hub;
using Google.Protobuf.Collections;

namespace Aether.Server.Grpc.V1;

/// <summary>What every response of a call that changes the hub carries when the hub refuses or fails it: the
/// reference's <c>success</c> and <c>error</c>, and Aether's <c>error_kind</c> and <c>field_errors</c>.</summary>
internal interface IHubRefusal
{
    bool Success { get; set; }

    string Error { get; set; }

    ErrorKind ErrorKind { get; set; }

    RepeatedField<FieldError> FieldErrors { get; }
}

// The generated responses, marked as carrying a refusal (their properties are the interface's).
internal sealed partial class AddNetworkResponse : IHubRefusal;

internal sealed partial class RemoveNetworkResponse : IHubRefusal;

internal sealed partial class SetPeerResponse : IHubRefusal;

internal sealed partial class RemovePeerResponse : IHubRefusal;

internal sealed partial class AttachResponse : IHubRefusal;

internal sealed partial class DetachResponse : IHubRefusal;

/// <summary>Fills a response with the hub's refusal.</summary>
internal static class HubRefusal
{
    /// <summary><paramref name="response"/> with <c>success = false</c> and the error of <paramref name="e"/>.</summary>
    public static T Of<T>(T response, HubException e)
        where T : IHubRefusal
    {
        response.Success = false;
        response.Error = Aether.Server.Grpc.GrpcMapping.Message(e);
        response.ErrorKind = Aether.Server.Grpc.GrpcMapping.Kind(e);
        response.FieldErrors.AddRange(Aether.Server.Grpc.GrpcMapping.FieldErrors(e));
        return response;
    }
}
