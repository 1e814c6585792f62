using Conveyor.AspNetCore.JobsApi;
using Microsoft.AspNetCore.Http;

namespace Conveyor.AspNetCore;

/// <summary>Lets only admin keys through (queue statistics span tenants; pausing a queue affects every tenant): 403 otherwise.</summary>
internal sealed class AdminEndpointFilter : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.GetConveyorCaller().IsAdmin
            ? next(context)
            : ValueTask.FromResult<object?>(ApiProblems.Forbidden());
}
