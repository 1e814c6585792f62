namespace Conveyor.Redis;

/// <summary>What a script does to memory, which decides whether a full Redis runs it.</summary>
internal enum ScriptFlags
{
    /// <summary>Writes, some of which may grow memory: refused whole by a full Redis.</summary>
    Writes,

    /// <summary>Reads only (<c>no-writes</c>): runs on a full Redis, and a write in it is an error.</summary>
    Reads,

    /// <summary>Deletes only (<c>allow-oom</c>): runs on a full Redis, since it frees memory.</summary>
    OnlyDeletes,
}
