/**
 * The Lua scripts the Redis registry runs (atomic on the Redis side, so a reader sees a flush
 * whole or not at all). Key layout: docs/deployment.md, "Redis keys".
 */

/**
 * One batch of agent writes. ARGV: prefix, ttlMs (0 = no expiry), epoch, then per agent: id,
 * times, n, and n (field, value) pairs of changed parts. The batch gets one sequence number
 * (`<prefix>seq`); every agent written is logged in `<prefix>log` with it. A write of fewer than
 * all five parts to a missing hash (expired, or Redis lost its data) is not made: its id is
 * returned so the replica writes the whole record instead. A negative n marks a refill (a
 * replica rewriting its cache after an outage): it is not made over a record heard from later.
 * Returns {seq, missing ids}.
 */
export const FLUSH_LUA = `
local p, ttl = ARGV[1], tonumber(ARGV[2])
redis.call('SET', p .. 'epoch', ARGV[3], 'NX')
local seq = redis.call('INCR', p .. 'seq')
local missing = {}
local i, last = 4, #ARGV
while i <= last do
  local id, times, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local refill = n < 0
  if refill then n = -n end
  local key = p .. 'a:' .. id
  local cur = redis.call('HGET', key, 't')
  if not cur and n < 5 then
    missing[#missing + 1] = id
  elseif refill and cur and tonumber(string.match(cur, '^%d+')) > tonumber(string.match(times, '^%d+')) then
    -- a replica rewriting its whole cache after an outage: another replica has heard from this agent since
  else
    local args = { 't', times }
    if n > 0 then
      args[3] = 'v'
      args[4] = seq
      for j = 0, n - 1 do
        args[#args + 1] = ARGV[i + 3 + 2 * j]
        args[#args + 1] = ARGV[i + 4 + 2 * j]
      end
    end
    redis.call('HSET', key, unpack(args))
    if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
    redis.call('ZADD', p .. 'log', seq, id)
  end
  i = i + 3 + 2 * n
end
return { seq, missing }
`;

/**
 * Forgets log entries of expired agents. The log is ordered by write sequence and a hash expires
 * a TTL after its last write, so expired agents are the oldest entries: removed from the start
 * until one still exists. ARGV: prefix, how many to look at. Returns how many were removed.
 */
export const SWEEP_LUA = `
local p = ARGV[1]
local ids = redis.call('ZRANGE', p .. 'log', 0, tonumber(ARGV[2]) - 1)
local n = 0
for _, id in ipairs(ids) do
  if redis.call('EXISTS', p .. 'a:' .. id) == 1 then break end
  redis.call('ZREM', p .. 'log', id)
  n = n + 1
end
return n
`;
