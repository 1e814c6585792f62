using Conveyor.Server.SampleJobs;
using Microsoft.OpenApi;

namespace Conveyor.Server.Tests.SampleJobs;

public sealed class SampleJobEndpointsTests
{
    [Fact]
    public async Task DescribeNoteId_DocumentsAnIntegerFromOneToTheInt64Maximum()
    {
        var noteId = new OpenApiParameter { Name = "noteId", In = ParameterLocation.Path, Schema = new OpenApiSchema { Type = JsonSchemaType.String } };

        await SampleJobEndpoints.DescribeNoteId(new OpenApiOperation { Parameters = [noteId] });

        var schema = Assert.IsType<OpenApiSchema>(noteId.Schema);
        Assert.Equal(JsonSchemaType.Integer, schema.Type);
        Assert.Equal("1", schema.Minimum);
        Assert.Equal("9223372036854775807", schema.Maximum);
        Assert.Null(schema.Pattern);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("9223372036854775807", true)]
    [InlineData("9223372036854775808", false)]
    [InlineData("9999999999999999999", false)]
    [InlineData("0", false)]
    [InlineData("-1", false)]
    [InlineData("01", false)]
    [InlineData("x", false)]
    public void TryReadNoteId_TakesWhatTheDocumentSays(string text, bool taken)
    {
        Assert.Equal(taken, SampleJobEndpoints.TryReadNoteId(text, out _, out var problem));
        Assert.Equal(taken, problem is null);
    }
}
