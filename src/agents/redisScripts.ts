/**
 * The Lua scripts the Redis registry runs (atomic on the Redis side, so a reader sees a flush
 * whole or not at all). Key layout: docs/deployment.md, "Redis keys".
 */

/**
 * One batch of agent writes. ARGV: prefix, ttlMs (0 = no expiry), epoch, the agents whose times
 * alone moved (the common heartbeat) packed as lines of times (the header's first 36 characters)
 * and id, then per other agent: id, times, n, mask, and n (position, value) pairs of parts
 * (agentCodec.ts). Over an existing record only the parts whose bit (1 << position - 1) is in
 * mask are written; a missing one (new, expired, or Redis lost its data) needs all five parts
 * (so a replica seeing an agent first sends them all, with only the heartbeat in mask), else its
 * id is returned so the replica sends them. The batch gets one sequence number (`<prefix>seq`),
 * which becomes the rev of every record whose parts changed; every agent written is logged in
 * `<prefix>log` with it. A negative n marks a refill (a replica rewriting its cache after an
 * outage): it is not made over a record heard from later. Returns {seq, missing ids}.
 */
export const FLUSH_LUA = `
local p, ttl = ARGV[1], tonumber(ARGV[2])
redis.call('SET', p .. 'epoch', ARGV[3], 'NX')
local seq = redis.call('INCR', p .. 'seq')
local missing = {}
local logKey = p .. 'log'
local function store(key, id, value)
  if ttl > 0 then redis.call('SET', key, value, 'PX', ttl) else redis.call('SET', key, value) end
  redis.call('ZADD', logKey, seq, id)
end
-- Times only: the new times replace the first 36 characters, the rest stays.
for line in string.gmatch(ARGV[4], '[^\\n]+') do
  local id = string.sub(line, 37)
  local key = p .. 'a:' .. id
  local cur = redis.call('GET', key)
  if cur then store(key, id, string.sub(line, 1, 36) .. string.sub(cur, 37)) else missing[#missing + 1] = id end
end
local i, last = 5, #ARGV
while i <= last do
  local id, times, n, mask = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  local refill = n < 0
  if refill then n = -n end
  local key = p .. 'a:' .. id
  local cur = redis.call('GET', key)
  if not cur and n < 5 then
    missing[#missing + 1] = id
  elseif refill and cur and tonumber(string.sub(cur, 1, 13)) > tonumber(string.sub(times, 1, 13)) then
    -- another replica has heard from this agent since: keep its record
  else
    local parts, rev = { '', '', '', '', '' }, seq
    if cur then
      local k, pos = 1, 53
      while k <= 5 do
        local stop = string.find(cur, '\\31', pos, true)
        if not stop then parts[k] = string.sub(cur, pos); break end
        parts[k] = string.sub(cur, pos, stop - 1)
        pos = stop + 1
        k = k + 1
      end
      if n == 0 then rev = tonumber(string.sub(cur, 37, 51)) end
    end
    for j = 0, n - 1 do
      local at = tonumber(ARGV[i + 4 + 2 * j])
      if not cur or math.floor(mask / 2 ^ (at - 1)) % 2 == 1 then parts[at] = ARGV[i + 5 + 2 * j] end
    end
    store(key, id, times .. string.format('%015d', rev) .. '\\31' .. table.concat(parts, '\\31'))
  end
  i = i + 4 + 2 * n
end
return { seq, missing }
`;

/**
 * Forgets log entries of expired agents. The log is ordered by write sequence and a record expires
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

/**
 * The headers (times and rev, the first 51 characters) of the named agents' records, in order;
 * false for a missing one. ARGV: prefix, ids… One call instead of a command per agent.
 */
export const HEADS_LUA = `
local p, out = ARGV[1], {}
for k = 2, #ARGV do
  local v = redis.call('GET', p .. 'a:' .. ARGV[k])
  out[k - 1] = v and string.sub(v, 1, 51) or false
end
return out
`;
