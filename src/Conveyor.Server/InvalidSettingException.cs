namespace Conveyor.Server;

/// <summary>A setting the server cannot use; its message names the setting and what it accepts, in one line.</summary>
internal sealed class InvalidSettingException(string message) : Exception(message);
