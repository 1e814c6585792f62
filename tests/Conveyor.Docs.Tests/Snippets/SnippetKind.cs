namespace Conveyor.Docs.Tests.Snippets;

/// <summary>How a block of a markdown file becomes C#: named by the <c>&lt;!-- snippet: … --&gt;</c> comment before it.</summary>
public enum SnippetKind
{
    /// <summary>A source file: using directives and type declarations (the default).</summary>
    File,

    /// <summary>The <c>Program.cs</c> of the file's project: top-level statements, then types. At most one per file.</summary>
    Program,

    /// <summary>The body of an async method whose parameters the comment names: <c>method(IJobClient jobs)</c>.</summary>
    Method,

    /// <summary>Members of an interface (signatures, as in a reference listing).</summary>
    Members,

    /// <summary>Hidden code from a <c>&lt;!-- snippet-context … --&gt;</c> comment: what the shown blocks assume.</summary>
    Context,
}
