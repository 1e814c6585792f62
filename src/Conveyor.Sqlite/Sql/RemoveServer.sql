-- RemoveServer: removes a server's registration. Parameters: @id. Result: none.
DELETE FROM servers WHERE id = @id;
