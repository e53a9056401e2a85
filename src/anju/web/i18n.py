"""Interface texts in Chinese (default) and English, and how a request picks its language.

The language comes from ``?lang=`` (which also sets the ``anju_lang`` cookie), else the cookie, else the
deployment's ``Settings.lang``. Data labels (indicator names, ranking titles) come from the release, which stores
both languages; only the chrome of the pages is translated here.
"""

from __future__ import annotations

from starlette.requests import Request

__all__ = ["LANG_COOKIE", "TEXTS", "request_lang", "translate"]

LANG_COOKIE = "anju_lang"

TEXTS: dict[str, tuple[str, str]] = {
    "app": ("安居 · 社区平安数据平台", "anju · community safety platform"),
    "overview": ("总览", "Overview"),
    "communities": ("社区", "Communities"),
    "community": ("社区", "Community"),
    "rankings": ("排行榜", "Rankings"),
    "releases": ("平安指数发布", "Releases"),
    "imports": ("数据导入", "Imports"),
    "notices": ("通知通告", "Notices"),
    "duty": ("勤务", "Duty"),
    "tasks": ("任务交办", "Tasks"),
    "orders": ("居民诉求", "Resident reports"),
    "siting": ("安全屋选址", "Safe-house siting"),
    "supervision": ("挂牌督导", "Supervision"),
    "assessment": ("月度考评", "Monthly assessment"),
    "assessment_inputs": ("考评录入", "Assessment inputs"),
    "users": ("用户与角色", "Users and roles"),
    "audit": ("审计日志", "Audit log"),
    "jobs": ("后台任务", "Jobs"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "bad_login": ("用户名或密码错误", "Wrong user name or password"),
    "locked": ("登录失败次数过多，账户已临时锁定，请稍后再试", "Too many failed logins: the account is locked for a while"),
    "too_many": ("登录尝试过于频繁，请稍后再试", "Too many login attempts; try again later"),
    "period": ("发布时期", "Period"),
    "safety_index": ("平安指数", "Safety index"),
    "map": ("社区平安指数地图", "Safety index by community"),
    "trend": ("月度警情趋势", "Calls by month"),
    "problems": ("重点关注社区（平安指数最低）", "Communities to watch (lowest index)"),
    "headline": ("核心指标", "Headline figures"),
    "no_data": ("暂无数据：请先导入 110 警情数据。", "No data yet: import a 110 export first."),
    "profile": ("社区概况（历次记录）", "Community profile (every change)"),
    "monthly": ("各月警情", "Calls by month"),
    "index_interval": ("平安指数与排名", "Index and rankings"),
    "export": ("导出 Excel", "Export to Excel"),
    "filter": ("筛选", "Filter"),
    "search": ("搜索", "Search"),
    "prev": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "page": ("第 {page} / {pages} 页，共 {count} 条", "Page {page} of {pages}, {count} rows"),
    "title": ("标题", "Title"),
    "body": ("内容", "Text"),
    "save": ("保存", "Save"),
    "create": ("新建", "New"),
    "status": ("状态", "Status"),
    "due": ("期限", "Due"),
    "assignee": ("承办单位", "Assigned to"),
    "reply": ("回复", "Reply"),
    "replies": ("回复记录", "Replies"),
    "build_release": ("生成新的发布（后台任务）", "Build a new release (background job)"),
    "upload": ("上传 110 导出文件", "Upload a 110 export"),
    "profile_name": ("数据格式", "Source profile"),
    "progress": ("进度", "Progress"),
    "when": ("时间", "When"),
    "who": ("操作人", "Who"),
    "action": ("操作", "Action"),
    "target": ("对象", "Target"),
    "from": ("来源地址", "From"),
    "role": ("角色", "Role"),
    "organisation": ("所属单位", "Organisation"),
    "active": ("启用", "Active"),
    "forbidden": ("无权访问该内容", "You may not see this"),
    "not_found": ("未找到", "Not found"),
    "api_docs": ("接口文档", "API docs"),
    "language": ("English", "中文"),
    "rank": ("名次", "Rank"),
    "name": ("名称", "Name"),
    "calls": ("警情数", "Calls"),
    "grade": ("等级", "Grade"),
    "interval": ("95% 区间", "95% interval"),
    "scope_note": ("仅显示您有权查看的范围", "Only what your role may see is shown"),
    "recorded_at": ("记录时间", "Recorded"),
    "author": ("记录人", "Author"),
}


def translate(key: str, lang: str, **kw: object) -> str:
    """The text ``key`` in ``lang`` (``zh``/``en``), formatted with ``kw``; unknown keys come back as is."""
    pair = TEXTS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**kw) if kw else text


def request_lang(request: Request, default: str = "zh") -> str:
    """The language of a request: ``?lang=``, else the ``anju_lang`` cookie, else ``default``."""
    q = request.query_params.get("lang")
    if q in ("zh", "en"):
        return q
    c = request.cookies.get(LANG_COOKIE)
    if c in ("zh", "en"):
        return c
    return "en" if default == "en" else "zh"
